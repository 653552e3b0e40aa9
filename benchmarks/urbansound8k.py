"""The UrbanSound8K benchmark (urban sounds, 10 classes, the 10 official folds).

    python -m benchmarks.data download urbansound8k --root ~/.cache/rann/urbansound8k   # about 6 GB
    python -m benchmarks.urbansound8k --features mel,mfcc,cqt --fusion ds

See :mod:`benchmarks.runner` for the options and what it writes.
"""

import sys

from benchmarks.runner import Benchmark, run

BENCHMARK = Benchmark(
    "urbansound8k", default_features="mel,mfcc,cqt,gfcc,wavegram", description=__doc__.split("\n\n")[0]
)


def main(argv: list[str] | None = None) -> int:
    return run(BENCHMARK, argv)


if __name__ == "__main__":
    sys.exit(main())
