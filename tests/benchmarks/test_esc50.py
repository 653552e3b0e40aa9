"""The ESC-50 benchmark end to end on the smoke profile (short), and through Ray (slow)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

import fusion
from benchmarks.core.locks import locked
from benchmarks.core.provenance import git_commit
from benchmarks.esc50 import BENCHMARK, main
from benchmarks.runner import parse_args
from benchmarks.runner.plan import check_methods
from rann.config import RunConfig
from rann.runs import run_folder


def args(tmp_path, *extra, folds: str = "1"):
    return [
        "--profile",
        "smoke",
        "--features",
        "mel,chroma",
        "--folds",
        folds,
        "--runs-dir",
        str(tmp_path / "runs"),
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        *extra,
    ]


def table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("|")][2:]


def _hold_lock(folder, until, timeout: float = 600.0) -> threading.Thread:
    """Hold ``folder``'s run lock from a thread, as a second copy of the command would, until
    ``until()`` is true (or ``timeout`` seconds)."""
    taken = threading.Event()

    def hold():
        with locked(folder):
            taken.set()
            end = time.monotonic() + timeout
            while not until() and time.monotonic() < end:
                time.sleep(0.1)

    t = threading.Thread(target=hold)
    t.start()
    taken.wait()
    return t


def test_smoke_end_to_end_then_reuse(esc50_root, tmp_path, capsys):
    # mel's run is locked by "another process" at first: it is deferred, chroma trains, then the
    # command waits for the lock and trains mel itself (the holder never finished it)
    mel = run_folder(RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke"), tmp_path / "runs")
    chroma = run_folder(
        RunConfig.from_profile(dataset="esc50", feature="chroma", fold=1, profile="smoke"), tmp_path / "runs"
    )
    holder = _hold_lock(mel, until=(chroma / ".completed").is_file)  # released once chroma is trained
    assert main(args(tmp_path, "--data-root", str(esc50_root))) == 0
    holder.join()
    assert (chroma / ".completed").stat().st_mtime <= (mel / ".completed").stat().st_mtime
    out = tmp_path / "out"
    for name in ("per_feature", "fusion", "paper_comparison"):
        for ext in ("md", "csv", "json"):
            assert (out / f"{name}.{ext}").is_file()
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG" and (out / "fusion.png").is_file()
    per_feature = (out / "per_feature.md").read_text()
    assert [r.split("|")[1].strip() for r in table_rows(per_feature)] == ["Mel Spectrogram", "Chromagram"]
    fused = (out / "fusion.md").read_text()
    assert "Acc. WA" in fused and "Acc. (D-S)" in fused and "Acc. (ID-S)" in fused
    assert len(table_rows(fused)) == 1  # the chosen features, each method
    info = json.loads((out / "run.json").read_text())
    assert len(info["runs"]) == 2 and not any(r["reused"] for r in info["runs"])
    assert set(info["wall_seconds"]) == {"training", "fusion", "reports"} and info["git_commit"] == git_commit()
    printed = capsys.readouterr().out
    assert "Mel Spectrogram" in printed and "2 to train" in printed

    assert main(args(tmp_path, "--data-root", str(esc50_root))) == 0  # everything reused
    info = json.loads((out / "run.json").read_text())
    assert all(r["reused"] for r in info["runs"])
    assert "2 reused, 0 to resume, 0 to train" in capsys.readouterr().out


def test_a_report_of_another_command_is_never_replaced(esc50_root, tmp_path, capsys):
    assert main(args(tmp_path, "--data-root", str(esc50_root))) == 0
    out = tmp_path / "out"
    before = (out / "per_feature.md").read_text()
    # another selection into the same folder: refused before anything is trained or written
    assert main(args(tmp_path, "--data-root", str(esc50_root), "--features", "mel")) == 1
    err = capsys.readouterr().err
    assert f"{out} holds the report of another command" in err and "--overwrite" in err and "--out DIR" in err
    assert (out / "per_feature.md").read_text() == before
    assert main(args(tmp_path, "--data-root", str(esc50_root), "--jobs", "2")) == 0  # the same selection
    assert main(args(tmp_path, "--data-root", str(esc50_root), "--features", "mel", "--overwrite")) == 0
    assert json.loads((out / "run.json").read_text())["features"] == ["mel"]  # replaced, as asked
    # --no-train refuses a plan with runs left to train, naming them
    assert main(args(tmp_path, "--data-root", str(esc50_root), "--features", "cqt", "--no-train", "--overwrite")) == 1
    assert "--no-train: 1 runs are not completed here" in capsys.readouterr().err


def test_the_default_report_folder_is_ignored_by_git():
    from benchmarks.esc50 import BENCHMARK

    assert parse_args(BENCHMARK, []).out == Path("out/esc50/quick")
    ignored = (Path(__file__).parents[2] / ".gitignore").read_text().splitlines()
    assert "/out/" in ignored


def test_dry_run_and_bad_names(tmp_path, capsys):
    assert main(args(tmp_path, "--dry-run")) == 0
    assert "2 runs: 0 reused, 0 to resume, 2 to train" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()
    assert main(args(tmp_path, "--fusion", "dss")) == 1
    assert "unknown fusion method 'dss'" in capsys.readouterr().err


def test_one_fold_has_no_other_folds_to_fit_a_fusion_on(tmp_path, capsys):
    # stacking is fitted on the other folds' predictions: with one fold tested, naming it is refused
    # before training, and --fusion all leaves it out, saying so (WA weighs the features equally)
    assert main(args(tmp_path, "--fusion", "ds,stack")) == 1  # a real command, not a dry run
    err = capsys.readouterr().err
    assert "--fusion ds,stack with --folds 1: stack is fitted on the other folds' predictions" in err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "out").exists()
    assert main(args(tmp_path, "--fusion", "all", "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "--fusion all with --folds 1: stack is fitted on the other folds' predictions, so it is left out" in out
    one, two = (parse_args(BENCHMARK, args(tmp_path, "--fusion", "all", folds=k)) for k in ("1", "1,2"))
    check_methods(one)
    check_methods(two)
    assert one.methods == ["wa", "ds", "ids", "deng", "murphy"]
    assert two.methods == ["wa", "ds", "ids", "deng", "murphy", "stack"]
    # one feature fuses nothing: no method is refused
    assert main(args(tmp_path, "--fusion", "stack", "--features", "mel", "--dry-run")) == 0


def test_dry_run_extrapolates_a_measured_step(tmp_path, capsys, monkeypatch):
    # the estimate is one measured step (of a batch of 8: the paper's RANN is too slow to measure at
    # 32) scaled to the recipe's batch, steps and runs
    import rann.timing

    seen = []
    monkeypatch.setattr(rann.timing, "step_seconds", lambda cfg, batch_size: seen.append(batch_size) or 0.8)
    assert (
        main(
            [
                "--profile",
                "paper",
                "--features",
                "mel",
                "--folds",
                "1,2",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--dry-run",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    # 0.1 s a clip: 3.2 s per step of 32; 2 runs x 300 epochs x 50 steps (1,600 clips) = 26.7 h
    assert (
        seen == [8]
        and "batch 8 scaled to the recipe's): mel" in printed
        and "3.20 s per step of 32 clips; 2 runs x 300 epochs x 50 steps = about 26.7 h (bring a GPU" in printed
    )


def test_dry_run_measures_each_kind_of_run(tmp_path, capsys, monkeypatch):
    # runs of another feature or model cost another step: each kind measured once, summed over its runs
    import rann.timing

    seen = []
    cost = {"mel": 0.04, "cqt": 0.01}  # seconds per clip
    monkeypatch.setattr(
        rann.timing, "step_seconds", lambda cfg, batch_size: seen.append(cfg.feature) or cost[cfg.feature] * batch_size
    )
    argv = [
        "--profile",
        "standard",
        "--features",
        "mel,cqt",
        "--folds",
        "1,2",
        "--runs-dir",
        str(tmp_path),
        "--dry-run",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    # once per kind, not per run; CQT's step (0.32 s scaled) is cheap enough to measure again at 32
    assert sorted(seen) == ["cqt", "cqt", "mel"]
    # 1.28 s per step of 32 x 50 steps x 100 epochs x 2 runs = 3.6 h; CQT a quarter of it
    assert (
        "mel, rann_cpu_16, fp32: 1.28 s per step of 32 clips; 2 runs x 100 epochs x 50 steps = about 3.6 h" in printed
    )
    assert (
        "cqt, rann_cpu_16, fp32: 0.32 s per step of 32 clips; 2 runs x 100 epochs x 50 steps = about 0.9 h" in printed
    )
    assert "about 4.4 h in all" in printed


def test_dry_run_measures_a_cheap_step_at_the_full_batch(tmp_path, capsys, monkeypatch):
    # a batch of 8 overstates a wide model's step; one that cheap is priced from the recipe's batch
    import rann.timing

    seen = []
    cost = {8: 0.2, 32: 0.5}  # seconds per step: 0.8 s scaled from 8 clips, 0.5 s measured at 32
    monkeypatch.setattr(
        rann.timing, "step_seconds", lambda cfg, batch_size: seen.append(batch_size) or cost[batch_size]
    )
    argv = ["--profile", "standard", "--features", "mel", "--folds", "1", "--runs-dir", str(tmp_path), "--dry-run"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert seen == [8, 32]
    # 0.5 s x 50 steps x 100 epochs = 0.7 h
    assert (
        "measured on this CPU (" in printed
        and "threads, batch 32): mel, rann_cpu_16, fp32: 0.50 s per step of 32 clips; 1 runs x 100 epochs x 50 steps "
        "= about 0.7 h"
        in printed
    )


@pytest.mark.slow
def test_dry_run_of_the_paper_profile_measures_this_cpu(tmp_path, capsys):
    assert main(["--profile", "paper", "--features", "mel", "--runs-dir", str(tmp_path / "runs"), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "measured on this CPU" in printed and "rann_4_4" in printed and "5 runs x 300 epochs x 50 steps" in printed


def test_fusion_all_puts_the_papers_methods_first():
    methods = parse_args(BENCHMARK, ["--fusion", "all"]).methods
    assert methods[:3] == ["wa", "ds", "ids"] and sorted(methods) == sorted(fusion.list_methods())
    assert parse_args(BENCHMARK, []).methods == ["wa", "ds", "ids"]


@pytest.mark.slow
def test_ray_executor_smoke(esc50_root, tmp_path):
    pytest.importorskip("ray")
    assert (
        main(
            args(
                tmp_path,
                "--data-root",
                str(esc50_root),
                "--executor",
                "ray",
                "--jobs",
                "2",
                "--cpus-per-run",
                "1",
                "--grid",
            )
        )
        == 0
    )
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert len(info["runs"]) == 2 and (tmp_path / "out" / "grid.md").is_file()


def test_jobs_share_the_runs_between_processes(tmp_path, make_esc50):
    # two worker processes, one thread each: every run trained exactly once, all reused after
    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    argv = args(tmp_path, "--data-root", str(tmp_path / "esc50"), "--jobs", "2", folds="1,2")
    assert main(argv) == 0
    logs = sorted((tmp_path / "runs").rglob("log.csv"))
    assert len(logs) == 4 and all(log.read_text().count("\n") == 2 for log in logs)  # header + the one epoch, once
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert len(info["runs"]) == 4 and not any(r["reused"] for r in info["runs"])
    assert main(argv) == 0 and all(r["reused"] for r in json.loads((tmp_path / "out" / "run.json").read_text())["runs"])


def test_baselines_and_recipe_overrides_add_model_rows(tmp_path, make_esc50, capsys):
    # other models on the first feature (one with its own recipe) become rows of models.md and
    # of per_feature.md; --recipe reaches every run's config
    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    argv = args(
        tmp_path,
        "--data-root",
        str(tmp_path / "esc50"),
        "--recipe",
        "lr=0.001",
        "--baselines",
        "simple_cnn,simple_cnn:mix_clips=2:mixup_alpha=0:mix_noise_snr_db=10/20,rann_cpu_16:feature.n_mels=32",
        folds="1,2",
    )
    assert main(argv) == 0
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    configs = [RunConfig.from_dict(r["config"]) for r in info["runs"]]
    assert len(configs) == 10 and all(c.recipe.lr == 0.001 for c in configs)
    assert sum(c.feature_params.get("n_mels") == 32 for c in configs) == 2
    mixed = [c for c in configs if c.recipe.mix_clips == 2]
    assert len(mixed) == 2 and all(
        c.model == "simple_cnn" and c.feature == "mel" and c.recipe.mix_noise_snr_db == (10.0, 20.0) for c in mixed
    )
    rows = json.loads((tmp_path / "out" / "models.json").read_text())
    assert [(r["model"], r["recipe"]) for r in rows] == [
        ("rann_cpu_16", "lr=0.001"),
        ("simple_cnn", "lr=0.001"),
        ("simple_cnn", "lr=0.001, mixup_alpha=0, mix_clips=2, mix_noise_snr_db=10/20"),
        ("rann_cpu_16", "lr=0.001, mel.n_mels=32"),
    ]
    folders = {(c.model, c.recipe.mix_clips, c.feature_params.get("n_mels")): [] for c in configs}
    for c, r in zip(configs, info["runs"]):
        folders[(c.model, c.recipe.mix_clips, c.feature_params.get("n_mels"))].append(
            json.loads((tmp_path / "runs" / r["folder"].split("/runs/", 1)[1] / "metrics.json").read_text())
        )
    for row, key in zip(
        rows, [("rann_cpu_16", 1, 64), ("simple_cnn", 1, 64), ("simple_cnn", 2, 64), ("rann_cpu_16", 1, 32)]
    ):
        ms = folders[key]  # each row's numbers are its two runs' (folds 1 and 2)
        assert row["runs"] == len(ms) == 2 and row["folds"] == [1, 2]
        assert (
            row["accuracy"] == pytest.approx(sum(m["accuracy"] for m in ms) / 2)
            and row["parameters"] == ms[0]["parameters"]
        )
        # paired on (fold, seed) with the first row: the mean difference is the difference of the means
        assert row["paired_runs"] == 2 and row["accuracy_delta"] == pytest.approx(row["accuracy"] - rows[0]["accuracy"])
        assert row["seconds_per_epoch"] == pytest.approx(sum(m["seconds_per_epoch"] for m in ms) / 2, abs=0.01)
    assert rows[0]["accuracy_delta"] == 0.0
    time_md = (tmp_path / "out" / "training_time.md").read_text()
    assert (
        "| mel " in time_md
        and "| simple_cnn" not in time_md
        and "mel · simple_cnn (lr=0.001)" in time_md
        and "| all " in time_md
    )
    assert rows[1]["parameters"] < rows[0]["parameters"]  # the 4-conv baseline is smaller than the CPU RANN
    per_feature = (tmp_path / "out" / "per_feature.md").read_text()
    assert "## Other models on Mel Spectrogram" in per_feature and "`simple_cnn`" in per_feature
    from benchmarks.model_table import write_model_table

    write_model_table(rows, "Mel Spectrogram", tmp_path / "out")  # a second command: the section is replaced
    assert (tmp_path / "out" / "per_feature.md").read_text() == per_feature
    assert main([*argv[:-1], "nonexistent_model"]) == 1
    assert "unknown model 'nonexistent_model'" in capsys.readouterr().err
    assert main([*argv[:-1], "rann_cpu_16:feature.n_mel=32"]) == 1
    assert "mel: MelConfig.__init__() got an unexpected keyword argument 'n_mel'" in capsys.readouterr().err


def test_a_protocol_has_its_own_default_report_folder():
    from benchmarks.esc50 import BENCHMARK
    from benchmarks.runner import OUT_ROOT, parse_args

    assert parse_args(BENCHMARK, ["--profile", "standard"]).out == OUT_ROOT / "esc50" / "standard"
    clips = parse_args(BENCHMARK, ["--profile", "standard", "--protocol", "clips"])
    assert clips.out == OUT_ROOT / "esc50" / "standard" / "clips"


def test_clip_protocol_keys_its_own_runs_and_writes_its_folds(tmp_path, make_esc50, capsys):
    import csv

    from benchmarks.datasets import create_dataset
    from rann.training import train_run

    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    argv = args(tmp_path, "--data-root", str(tmp_path / "esc50"))
    assert main([*argv, "--protocol", "clips"]) == 0
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert {r["config"]["protocol"] for r in info["runs"]} == {"clips"}
    assert "protocol `clips` (every clip's fold in folds.csv)" in (tmp_path / "out" / "per_feature.md").read_text()
    with open(tmp_path / "out" / "folds.csv") as f:
        rows = list(csv.DictReader(f))
    dataset = create_dataset("esc50", data_root=tmp_path / "esc50", sr=22_050, protocol="clips", progress=False)
    assert [(r["filename"], int(r["fold"])) for r in rows] == list(zip(dataset.filenames, dataset.folds.tolist()))
    # the dataset's own folds are other runs, in another report folder
    assert main([*argv, "--out", str(tmp_path / "official")]) == 0
    official = json.loads((tmp_path / "official" / "run.json").read_text())
    assert not {r["folder"] for r in official["runs"]} & {r["folder"] for r in info["runs"]}
    assert "protocol" not in official["runs"][0]["config"]  # unset: the fingerprints of older runs hold
    # a run of one protocol is never trained on the other's folds
    cfg = RunConfig.from_dict(info["runs"][0]["config"])
    own_folds = create_dataset("esc50", data_root=tmp_path / "esc50", sr=22_050, progress=False)
    with pytest.raises(ValueError, match="its folds are protocol 'clips', the dataset's are None"):
        train_run(cfg, own_folds, runs_root=tmp_path / "runs")
