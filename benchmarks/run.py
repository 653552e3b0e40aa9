"""The benchmark of any registered dataset, or of a folder of your own audio.

    python -m benchmarks.run --dataset folder --data-root DIR --features mel,mfcc,cqt --fusion ds --grid
    python -m benchmarks.run --dataset ravdess --features mel,mfcc --folds 1,2

Every option of the dataset entry points (``benchmarks.esc50``, ...), plus ``--dataset`` and, for
``folder``, how the folder is read: ``--name``, ``--duration``, ``--align``, ``--n-folds`` and
``--fold-seed`` (see :mod:`benchmarks.datasets.folder`). Reports go to ``out/<name>/<profile>/``
(``<name>``: ``--name``, by default the folder's name), with ``folds.csv``: every clip's fold.
"""

import sys

from benchmarks.runner import Benchmark, run

BENCHMARK = Benchmark(None, default_features="mel,mfcc,cqt", description=__doc__.split("\n\n")[0])


def main(argv: list[str] | None = None) -> int:
    return run(BENCHMARK, argv)


if __name__ == "__main__":
    sys.exit(main())
