"""Train one run: a model on one feature, tested on one fold.

    python -m rann.train --dataset esc50 --feature mel --fold 1 --profile quick

A completed run is reused; an interrupted one resumes from its last finished epoch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from benchmarks.core.errors import ParameterError, RannBenchError
from benchmarks.datasets import create_dataset
from rann.config import PROFILES, RunConfig
from rann.precision import check_precision
from rann.settings import parse_recipe, parse_settings
from rann.training import CHECKPOINT_SECONDS, train_run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rann.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="esc50")
    ap.add_argument("--feature", required=True)
    ap.add_argument("--fold", type=int, required=True)
    ap.add_argument("--profile", default="quick", choices=list(PROFILES))
    ap.add_argument("--model", default=None, help="model name (default: the profile's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    ap.add_argument(
        "--recipe", default="", help="recipe settings, e.g. epochs=60,mixup_alpha=0 (a range: mix_noise_snr_db=10/30)"
    )
    ap.add_argument("--feature-params", default="", help="feature settings on top of the profile's, e.g. n_mels=128")
    ap.add_argument("--runs-dir", default="results/runs")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument(
        "--force-precision", action="store_true", help="train bf16 on a CPU without AMX (refused otherwise)"
    )
    ap.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=CHECKPOINT_SECONDS,
        help=f"seconds of training between checkpoints (default {CHECKPOINT_SECONDS:g})",
    )
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        overrides = {**parse_recipe(args.recipe.split(",")), **({"epochs": args.epochs} if args.epochs else {})}
        feature_overrides = parse_settings(args.feature_params.split(","), what="feature setting")
        cfg = RunConfig.from_profile(
            dataset=args.dataset,
            feature=args.feature,
            fold=args.fold,
            profile=args.profile,
            seed=args.seed,
            model=args.model,
            feature_overrides=feature_overrides,
            **overrides,
        )
        check_precision(cfg.recipe.precision, args.device, force=args.force_precision)
        t0 = time.perf_counter()
        if args.device == "cuda" and not torch.cuda.is_available():
            raise ParameterError("--device cuda but CUDA is not available")
        dataset = create_dataset(args.dataset, data_root=args.data_root, sr=cfg.sr, cache_dir=args.cache_dir)
        cfg = cfg.resolved(int((dataset.folds != cfg.fold).sum()))  # a budget in steps: the epochs for this data
        res = train_run(
            cfg, dataset, runs_root=args.runs_dir, device=args.device, checkpoint_seconds=args.checkpoint_seconds
        )
    except (RannBenchError, KeyError) as exc:
        print(f"error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 1
    state = "reused (already completed)" if res.reused else f"trained in {time.perf_counter() - t0:.0f} s"
    print(f"{cfg.feature} fold {cfg.fold}: {state} -> {res.folder}")
    print(json.dumps({k: res.metrics[k] for k in ("accuracy", "map", "f1", "seconds_per_epoch") if k in res.metrics}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
