"""The RAVDESS benchmark (speech emotion, 8 classes; 6 actor-independent folds of 4 actors).

    python -m benchmarks.ravdess --grid --fusion all

See :mod:`benchmarks.runner` for the options and :mod:`benchmarks.datasets.ravdess` for the protocol.
"""

import sys

from benchmarks.runner import Benchmark, run

BENCHMARK = Benchmark("ravdess", default_features="mel,mfcc,cqt,gfcc,wavegram", description=__doc__.split("\n\n")[0])


def main(argv: list[str] | None = None) -> int:
    return run(BENCHMARK, argv)


if __name__ == "__main__":
    sys.exit(main())
