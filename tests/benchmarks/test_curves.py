"""Learning curves from the runs' logs."""

from __future__ import annotations

from benchmarks.curves import learning_curves, plot_learning_curves
from rann.config import RunConfig
from rann.runs import run_folder


def _run(root, fold: int, accuracy: dict[int, float], feature: str = "mel") -> RunConfig:
    cfg = RunConfig.from_profile(dataset="ravdess", feature=feature, fold=fold, profile="quick")
    folder = run_folder(cfg, root)
    folder.mkdir(parents=True)
    rows = [f"{e},1.0,0.001,10.0,{accuracy.get(e, '')},{1.0 if e in accuracy else ''}" for e in range(1, 11)]
    (folder / "log.csv").write_text("epoch,loss,lr,seconds,test_accuracy,eval_seconds\n" + "\n".join(rows) + "\n")
    return cfg


def test_each_run_gives_its_evaluated_epochs_in_order(tmp_path):
    a = _run(tmp_path, 1, {5: 0.2, 10: 0.4})
    b = _run(tmp_path, 2, {5: 0.3, 10: 0.5})
    c = _run(tmp_path, 1, {}, feature="mfcc")  # never evaluated: left out
    curves = learning_curves([("mel", a), ("mel", b), ("mfcc", c)], tmp_path)
    assert curves == {"mel": [([5, 10], [0.2, 0.4]), ([5, 10], [0.3, 0.5])]}


def test_the_figure_is_written_only_when_there_is_a_curve(tmp_path):
    a = _run(tmp_path, 1, {5: 0.2, 10: 0.4})
    png = plot_learning_curves([("mel", a)], tmp_path, tmp_path / "curves.png", "test")
    assert png.read_bytes()[:4] == b"\x89PNG"
    c = _run(tmp_path, 2, {}, feature="mfcc")
    assert plot_learning_curves([("mfcc", c)], tmp_path, tmp_path / "none.png", "test") is None
    assert not (tmp_path / "none.png").exists()
