"""The layering: each package imported alone in a fresh interpreter loads nothing above it, and
no function in the project is longer than a screen (60 lines)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmarks", "features", "fusion", "rann")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


#: The command-line entry points: every module that runs as ``python -m``.
CLIS = sorted(_module_name(p) for p in _sources() if 'if __name__ == "__main__":' in p.read_text())
LIBRARIES = ("features", "fusion", "rann")

#: What importing each module must never load (prefixes of module names).
FORBIDDEN = {
    "benchmarks.core.registry": ["numpy", "torch", "benchmarks.datasets", *LIBRARIES, *CLIS],
    "benchmarks.core.errors": ["numpy", "torch", "benchmarks.datasets", *LIBRARIES, *CLIS],
    "benchmarks.core.io": ["numpy", "torch", "matplotlib", "benchmarks.datasets", *LIBRARIES, *CLIS],
    "benchmarks.core.locks": ["numpy", "torch", "benchmarks.datasets", *LIBRARIES, *CLIS],
    "benchmarks.core.metrics": ["torch", "scipy", "benchmarks.datasets", *LIBRARIES, *CLIS],
    "benchmarks.datasets": ["torch", *LIBRARIES, *CLIS],
    "features": ["fusion", "rann", "benchmarks.datasets", *CLIS],
    "features.store": ["fusion", "rann", *CLIS],
    "fusion": ["torch", "features", "rann", "benchmarks.datasets", *CLIS],
    "rann": ["fusion", "features", "benchmarks.datasets", *CLIS],
    "rann.training": ["fusion", *CLIS],
    # the trained ensemble composes features, rann and fusion; the CLIs (predict) sit on top of it
    "benchmarks.ensemble": [*CLIS],
}


def _loaded_after_import(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return set(json.loads(out))


def test_the_entry_points_are_found():
    assert {"benchmarks.esc50", "benchmarks.run", "benchmarks.predict", "benchmarks.data", "rann.train"} <= set(CLIS)


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_importing_a_layer_loads_nothing_above_it(module):
    loaded = _loaded_after_import(module)
    assert module in loaded
    bad = sorted(m for m in loaded for f in FORBIDDEN[module] if m == f or m.startswith(f + "."))
    assert not bad, f"importing {module} loads {bad}"


def test_the_leaf_imports_nothing_else_of_the_project():
    for path in (ROOT / "benchmarks" / "core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top not in PACKAGES or name.startswith("benchmarks.core"), f"{path.name} imports {name}"


def test_libraries_never_import_a_cli():
    for path in _sources():
        if _module_name(path) in CLIS or path.parent.name == "benchmarks" and path.parent.parent == ROOT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in CLIS:
                pytest.fail(f"{path.relative_to(ROOT)} imports the CLI {node.module}")
            if isinstance(node, ast.Import) and any(a.name in CLIS for a in node.names):
                pytest.fail(f"{path.relative_to(ROOT)} imports a CLI")


#: The CLI layer: the entry points, and every module of ``benchmarks`` outside its data layer
#: (``benchmarks.datasets``) and its leaf (``benchmarks.core``): the runner, the report helpers
CLI_LAYER = sorted(
    {*CLIS}
    | {
        _module_name(p)
        for p in (ROOT / "benchmarks").rglob("*.py")
        if p.relative_to(ROOT / "benchmarks").parts[0] not in ("core", "datasets", "__init__.py")
    }
)
#: The layers below the CLIs: none of their modules imports the CLI layer, even inside a function
BELOW_THE_CLIS = ("rann", "features", "fusion", "benchmarks/datasets")


def imports_of_the_cli_layer(path: Path) -> list[str]:
    """The CLI-layer modules that the source file ``path`` imports (anywhere in it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        found += [n for n in names if n in CLI_LAYER]
    return sorted(set(found))


def test_no_module_below_the_clis_imports_the_cli_layer():
    """``rann/``, ``features/``, ``fusion/`` and ``benchmarks/datasets/`` never import a CLI module
    (``rann.train``'s settings parsing lives in ``rann.settings``, not in a report helper)."""
    assert {"benchmarks.runner", "benchmarks.runner.cli", "benchmarks.model_table", "rann.train"} <= set(CLI_LAYER)
    bad = {
        str(path.relative_to(ROOT)): imports_of_the_cli_layer(path)
        for folder in BELOW_THE_CLIS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if imports_of_the_cli_layer(path)
    }
    assert not bad, f"modules below the CLIs import the CLI layer: {bad}"


def long_functions(limit: int = 60) -> list[str]:
    """``path:line name (n lines)`` for every function or method over ``limit`` lines."""
    out = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_no_function_is_over_60_lines():
    assert long_functions() == []
