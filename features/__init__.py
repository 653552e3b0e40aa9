"""Audio feature registry (log-mel, MFCC, GFCC, CQT, chroma, tempogram, wavegram, scalogram).

Not built yet: see the feature-registry issue.
"""
