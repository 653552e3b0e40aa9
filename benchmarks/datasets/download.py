"""Downloading a dataset archive and unpacking it safely into place.

The archive is fetched into a temporary folder beside the target, every member is checked
(no absolute paths, no ``..``, no links) before anything is extracted, the extracted copy is
verified (metadata valid, every listed clip present, the official clip count), and only then
renamed to the target folder. An interrupted or failed download leaves nothing that looks
like a dataset.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from benchmarks.core.errors import DataError
from benchmarks.datasets import get_dataset_class


def fetch(url: str, dest: Path, *, timeout: float = 10.0, progress: bool = True) -> None:
    """Download ``url`` to ``dest`` with a progress bar; ``timeout`` (s) bounds each network wait.

    Raises:
        DataError: the download failed (no network, refused, HTTP error, cut short).
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=f"downloading {Path(url).name}", disable=not progress
            ) as bar:
                got = 0
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
                    got += len(chunk)
                    bar.update(len(chunk))
            if total is not None and got != total:
                raise DataError(f"{url}: download cut short ({got} of {total} bytes)")
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"{url}: download failed ({reason})") from None


def safe_extract(archive: Path, dest: Path) -> None:
    """Extract the zip or tar (``.tar.gz``, ``.tgz``, ...) ``archive`` into ``dest`` after checking
    every member.

    Raises:
        DataError: the archive is neither, or a member has an absolute path, a ``..`` component
            or is a link or a device (nothing is extracted then).
    """
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                _check_member(archive, info.filename, link=stat.S_ISLNK(info.external_attr >> 16))
            zf.extractall(dest)
        return
    try:
        tf = tarfile.open(archive)
    except tarfile.TarError:
        raise DataError(f"{archive}: not a valid zip or tar archive") from None
    with tf:
        members = tf.getmembers()
        for m in members:
            _check_member(archive, m.name, link=m.issym() or m.islnk() or not (m.isfile() or m.isdir()))
        tf.extractall(dest, members=members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))


def _check_member(archive: Path, name: str, *, link: bool) -> None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"{archive}: refusing to extract member {name!r} (absolute path)")
    if ".." in p.parts:
        raise DataError(f"{archive}: refusing to extract member {name!r} (path goes outside the folder)")
    if link:
        raise DataError(f"{archive}: refusing to extract member {name!r} (symbolic link, hard link or device)")


def _locate(extracted: Path, marker: str) -> Path:
    hits = [p for p in extracted.rglob(PurePosixPath(marker).name) if p.as_posix().endswith(marker)]
    if len(hits) != 1:
        raise DataError(f"archive does not hold exactly one {marker} (found {len(hits)})")
    root = hits[0]
    for _ in PurePosixPath(marker).parts:
        root = root.parent
    return root


def download_dataset(
    name: str, root: str | os.PathLike, *, url: str | None = None, timeout: float = 10.0, progress: bool = True
) -> Path:
    """Download dataset ``name`` into folder ``root`` (which must not hold anything yet).

    Returns:
        The dataset folder (``root``), verified.

    Raises:
        DataError: on any failure, with a message that says how to get the data by hand.
    """
    cls = get_dataset_class(name)
    url = url or cls.download_url
    root = Path(root).expanduser().resolve()
    if url is None:
        raise DataError(f"{name}: no download address is known; place the data in {root} by hand")
    if (root / cls.meta_file).is_file():
        return root
    if root.exists() and any(root.iterdir()):
        raise DataError(f"{root}: folder exists and is not empty; choose an empty or new --root")
    root.parent.mkdir(parents=True, exist_ok=True)
    manual = (
        f"To get the data by hand: download {url}, unpack it, and move the folder that holds "
        f"{cls.meta_file} to {root} (or pass its location with --data-root / RANN_DATA)."
    )
    work = Path(tempfile.mkdtemp(prefix=f".{root.name}.download-", dir=root.parent))
    try:
        archive = work / "archive"
        fetch(url, archive, timeout=timeout, progress=progress)
        safe_extract(archive, work / "extracted")
        found = _locate(work / "extracted", cls.meta_file)
        meta = cls.read_meta(found)  # validates the CSV and that every listed clip exists
        if len(meta) != cls.expected.n_clips:
            raise DataError(f"{found / cls.meta_file}: lists {len(meta)} clips, expected {cls.expected.n_clips}")
        if root.exists():
            root.rmdir()
        os.replace(found, root)
    except DataError as exc:
        err = DataError(f"{exc}\n{manual}")
        err.problems = exc.problems
        raise err from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return root
