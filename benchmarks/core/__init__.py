"""The leaf every package may import: the registry, the project's exceptions, atomic writes,
file locks, the metrics and run provenance. It imports nothing else of this project, and
importing it loads nothing beyond the standard library (numpy only when ``metrics`` is used).

    benchmarks.core.registry    Registry (timm-style register / create / list)
    benchmarks.core.errors      RannBenchError and its subclasses
    benchmarks.core.io          write_atomic, write_json, save_figure
    benchmarks.core.locks       locked (inter-process file lock)
    benchmarks.core.metrics     accuracy, mAP, macro F1 (numpy)
    benchmarks.core.provenance  machine, package versions, command line, git commit
"""
