"""The ESC-50 benchmark (environmental sounds, 50 classes, the 5 official folds).

    python -m benchmarks.esc50 --features mel,mfcc,cqt --fusion ds
    python -m benchmarks.esc50 --grid --fusion all          # every combination of the features

See :mod:`benchmarks.runner` for the options and what it writes.
"""

import sys

from benchmarks.runner import Benchmark, run

BENCHMARK = Benchmark("esc50", default_features="mel,mfcc,cqt,gfcc,wavegram", description=__doc__.split("\n\n")[0])


def main(argv: list[str] | None = None) -> int:
    return run(BENCHMARK, argv)


if __name__ == "__main__":
    sys.exit(main())
