"""RANN models and their training recipe.

Not built yet: see the RANN models issue.
"""
