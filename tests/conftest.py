"""Shared fixtures: the real ESC-50 beside the repository when present, tiny generated data otherwise."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from benchmarks.datasets.paths import candidate_roots

ESC50_CLIP = Path("meta/esc50.csv")


def real_esc50_root() -> Path | None:
    """The real ESC-50 folder (``$RANN_DATA/esc50`` or ``../shared/data/esc50``), or ``None``."""
    for root in candidate_roots("esc50"):
        if (root / ESC50_CLIP).is_file():
            return root
    return None


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes caches into its own temporary folder, never into ~/.cache."""
    monkeypatch.setenv("RANN_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def esc50_root() -> Path:
    root = real_esc50_root()
    if root is None:
        pytest.skip("real ESC-50 not found (set RANN_DATA or place it in ../shared/data/esc50)")
    return root


ESC50_COLUMNS = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]


def make_esc50(
    root: Path,
    *,
    n_classes: int = 2,
    per_fold: int = 1,
    sr: int = 8000,
    seconds: float = 0.2,
    ext: str = ".wav",
    seed: int = 0,
) -> pd.DataFrame:
    """Write ``root/meta/esc50.csv`` and ``root/audio/*<ext>``: 5 folds x ``n_classes`` x ``per_fold`` clips.

    Each clip is a sine whose frequency depends on its class, plus a little noise.
    Returns the metadata table.
    """
    rng = np.random.default_rng(seed)
    (root / "meta").mkdir(parents=True, exist_ok=True)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    rows = []
    t = np.arange(int(sr * seconds)) / sr
    for fold in range(1, 6):
        for target in range(n_classes):
            for k in range(per_fold):
                src = 1000 * fold + 10 * target + k
                stem = f"{fold}-{src}-A-{target}"
                wave = 0.5 * np.sin(2 * np.pi * (200 + 100 * target) * t) + 0.01 * rng.standard_normal(t.size)
                sf.write(root / "audio" / f"{stem}{ext}", wave.astype(np.float32), sr)
                rows.append([f"{stem}.wav", fold, target, f"class{target}", False, src, "A"])
    meta = pd.DataFrame(rows, columns=ESC50_COLUMNS)
    meta.to_csv(root / "meta" / "esc50.csv", index=False)
    return meta


@pytest.fixture(name="make_esc50")
def _make_esc50_fixture():
    """The :func:`make_esc50` generator."""
    return make_esc50


@pytest.fixture(name="make_esc50_module", scope="module")
def _make_esc50_module_fixture():
    """The :func:`make_esc50` generator, for module-scoped fixtures."""
    return make_esc50


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path/www`` on 127.0.0.1; yields (base_url, folder)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    httpd.shutdown()
    httpd.server_close()
