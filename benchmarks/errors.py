"""The project's own exception for bad data: it always names the file and the problem."""

from __future__ import annotations


class DataError(Exception):
    """Raised for missing, malformed or undecodable dataset files.

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
