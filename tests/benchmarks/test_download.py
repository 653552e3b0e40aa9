"""Downloading ESC-50, against a local HTTP server on 127.0.0.1 serving generated archives."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.core.errors import DataError
from benchmarks.data import main
from benchmarks.datasets.download import download_dataset


def _tiny_wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(8, np.float32), 8000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def make_archive(path: Path, *, n_clips: int = 2000, extra: dict[str, bytes] | None = None) -> None:
    """An archive shaped like the official one: ``ESC-50-master/{meta/esc50.csv,audio/*.wav}``."""
    wav = _tiny_wav()
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n_clips):
            fold, target = i % 5 + 1, i % 50
            name = f"{fold}-{10000 + i}-A-{target}.wav"
            lines.append(f"{name},{fold},{target},class{target},False,{10000 + i},A")
            zf.writestr(f"ESC-50-master/audio/{name}", wav)
        zf.writestr("ESC-50-master/meta/esc50.csv", "\n".join(lines) + "\n")
        for member, data in (extra or {}).items():
            zf.writestr(member, data)


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def test_download_extracts_and_verifies(server, tmp_path):
    url, www = server
    make_archive(www / "master.zip")
    root = tmp_path / "data" / "esc50"
    out = download_dataset("esc50", root, url=f"{url}/master.zip", progress=False)
    assert out == root.resolve()
    assert (root / "meta" / "esc50.csv").is_file()
    assert len(list((root / "audio").glob("*.wav"))) == 2000
    assert leftovers(root.parent) == []  # the temporary folder is gone
    # a second call finds the data and does nothing
    assert download_dataset("esc50", root, url=f"{url}/missing.zip", progress=False) == root.resolve()


def test_download_cli(server, tmp_path, capsys):
    url, www = server
    make_archive(www / "master.zip")
    rc = main(["download", "esc50", "--root", str(tmp_path / "esc50"), "--url", f"{url}/master.zip"])
    assert rc == 0 and "esc50 is ready in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "member, why",
    [
        ("../evil.txt", "path goes outside the folder"),
        ("ESC-50-master/../../evil.txt", "path goes outside the folder"),
        ("/tmp/rann-evil.txt", "absolute path"),
    ],
)
def test_malicious_member_is_rejected_before_extraction(server, tmp_path, member, why):
    url, www = server
    make_archive(www / "bad.zip", extra={member: b"pwned"})
    root = tmp_path / "data" / "esc50"
    with pytest.raises(DataError) as err:
        download_dataset("esc50", root, url=f"{url}/bad.zip", progress=False)
    msg = str(err.value)
    assert repr(member) in msg and why in msg and "by hand" in msg
    assert not root.exists() and leftovers(root.parent) == []
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "data" / "evil.txt").exists()
    assert not Path("/tmp/rann-evil.txt").exists()


def test_incomplete_archive_is_not_put_in_place(server, tmp_path):
    url, www = server
    make_archive(www / "short.zip", n_clips=1999)
    root = tmp_path / "esc50"
    with pytest.raises(DataError, match="lists 1999 clips, expected 2000"):
        download_dataset("esc50", root, url=f"{url}/short.zip", progress=False)
    assert not root.exists() and leftovers(tmp_path) == []


def test_no_network_fails_fast_with_instructions(tmp_path):
    # a port on 127.0.0.1 that nobody listens on stands in for "no network"
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t0 = time.perf_counter()
    with pytest.raises(DataError) as err:
        download_dataset("esc50", tmp_path / "esc50", url=f"http://127.0.0.1:{port}/master.zip", progress=False)
    assert time.perf_counter() - t0 < 10
    msg = str(err.value)
    assert "download failed" in msg and "To get the data by hand" in msg and "meta/esc50.csv" in msg


def test_http_error_and_not_a_zip(server, tmp_path):
    url, www = server
    with pytest.raises(DataError, match="download failed"):
        download_dataset("esc50", tmp_path / "a", url=f"{url}/absent.zip", progress=False)
    (www / "junk.zip").write_bytes(b"not a zip at all")
    with pytest.raises(DataError, match="not a valid zip or tar archive"):
        download_dataset("esc50", tmp_path / "b", url=f"{url}/junk.zip", progress=False)


def test_refuses_non_empty_root(tmp_path):
    (tmp_path / "esc50").mkdir()
    (tmp_path / "esc50" / "something").write_text("x")
    with pytest.raises(DataError, match="folder exists and is not empty"):
        download_dataset("esc50", tmp_path / "esc50", url="http://127.0.0.1:9/x.zip")
