"""The project's exceptions: one base, :class:`RannBenchError`, that every error we raise derives from.

Catch ``RannBenchError`` to handle any of them; each message names the file, the parameter or
the input at fault, what was expected and what was found.
"""

from __future__ import annotations


class RannBenchError(Exception):
    """Base of every error this project raises on purpose (bad data, bad parameters, bad runs)."""


class DataError(RannBenchError):
    """Missing, malformed or undecodable dataset files, or a committed run that disagrees with them.

    The message names the offending path (file or folder) and says what is wrong with it,
    so that a researcher can fix the data without reading a library traceback. When several
    files are bad at once, ``problems`` holds one ``"<path>: <problem>"`` line per file.
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        if self.problems:
            shown = self.problems[:50]
            more = len(self.problems) - len(shown)
            message += "\n" + "\n".join(f"  - {p}" for p in shown)
            if more:
                message += f"\n  ... and {more} more"
        super().__init__(message)


class ParameterError(RannBenchError, ValueError):
    """A parameter outside what a feature, model or recipe accepts (as librosa's ``ParameterError``).
    The message names the parameter, the value given and what is allowed."""


class RunLockedError(RannBenchError):
    """Another process holds the lock of a run (or cache entry) right now."""


class CorruptRunError(DataError):
    """A run folder whose artifacts (``probs.npz``, ``metrics.json``, ...) cannot be read, or
    disagree with the dataset; the message names the file and how to fix it."""
