"""Inter-process file locks: two processes never build the same cache entry or train the same run."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from benchmarks.core.errors import RunLockedError


@contextlib.contextmanager
def locked(folder: str | Path, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.lock`` (created if missing) for the ``with`` body.

    The lock is released when the process dies, even by kill -9. With ``wait=False``, raise
    :class:`RunLockedError` at once when another process holds it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise RunLockedError(
                f"{folder}: another process holds its lock (it is training or building it); wait for it or stop it"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
