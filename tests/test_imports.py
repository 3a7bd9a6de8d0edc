"""The import graph: no module of the repo imports itself through others, and modules stay small.

Every ``.py`` file under ``maaza_rt/``, ``train/``, ``convert/`` and ``bench/`` is parsed with
``ast`` (imports at any level, inside functions included: a lazy import still ties two modules
together) and each import is resolved to the repo module it names. A package's ``__init__.py``
is the package itself; ``from pkg import name`` names the submodule ``pkg.name`` when there is
one, else the package. Importing ``pkg.sub`` runs ``pkg/__init__.py`` first, but that is not an
edge here: a package that imports its own submodules would otherwise always be a circle. A
bench script's bare ``import engines`` names ``bench/engines.py`` (the scripts put their own
folder on ``sys.path``). The graph must have no cycle, and neither must the graph of the
top-level packages (``convert`` may import ``train``, not the reverse as well).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("maaza_rt", "train", "convert", "bench")
# Scripts that put their own folder on sys.path and import their siblings by bare name.
SCRIPT_DIRS = ("bench",)
MAX_LINES = 500
# Modules of maaza_rt/ over MAX_LINES when this check was written. This list must only shrink:
# split a module that grows past the limit instead of adding it here.
OVER_LIMIT: frozenset[str] = frozenset()

Graph = dict[str, set[str]]


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``packages`` (``pkg/__init__.py``
    is ``pkg``)."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The repo module that importing ``name`` names: the longest known prefix, or None."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path], root: Path,
               script_dirs: Iterable[str] = SCRIPT_DIRS) -> set[str]:
    """The repo modules that ``module`` (the file ``path``) imports, at any level."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if _is_package(path) else module.rpartition(".")[0]
    script_dir = path.parent.relative_to(root).as_posix() in set(script_dirs)
    found: set[str] = set()

    def add(name: str) -> None:
        target = _target(name, modules)
        if target is None and script_dir and "." not in name:
            target = _target(f"{path.parent.name}.{name}", modules)  # a sibling script
        if target is not None and target != module:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in modules:
                    add(sub)  # a submodule: ``from . import prompt``
                elif not _is_native(sub, root):
                    add(source)
    return found


def _is_native(name: str, root: Path) -> bool:
    """Whether ``name`` is an extension module of the repo (``maaza_rt._core``): a leaf."""
    folder = root.joinpath(*name.split(".")[:-1])
    leaf = name.rpartition(".")[2]
    return any(folder.glob(f"{leaf}.*.so")) or (folder / f"{leaf}.pyi").is_file()


def import_graph(root: Path, packages: Iterable[str]) -> Graph:
    """Module -> the repo modules it imports."""
    modules = module_files(root, packages)
    return {m: imports_of(m, p, modules, root) for m, p in modules.items()}


def find_cycle(graph: Graph) -> list[str] | None:
    """A cycle of ``graph`` as its nodes, the first repeated at the end; None when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle is not None:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle is not None:
                return cycle
    return None


def package_graph(graph: Graph) -> Graph:
    """The graph of top-level packages: ``a -> b`` when a module of ``a`` imports one of ``b``."""
    top: Graph = {}
    for module, targets in graph.items():
        here = module.split(".")[0]
        top.setdefault(here, set()).update(t.split(".")[0] for t in targets
                                           if t.split(".")[0] != here)
    return top


def test_import_graph_resolves_relative_lazy_and_script_imports(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from .a import f\n",
        "pkg/a.py": "from . import b\nfrom .sub import c\n",
        "pkg/b.py": "def g():\n    from pkg.sub.c import h\n    import json\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "from .. import f\nfrom ..sub import c\n",
        "scripts/run.py": "import helper\nimport pkg.sub\n",
        "scripts/helper.py": "import os\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    modules = module_files(tmp_path, ("pkg", "scripts"))
    graph = {m: imports_of(m, p, modules, tmp_path, ("scripts",)) for m, p in modules.items()}
    assert graph["pkg"] == {"pkg.a"}
    assert graph["pkg.a"] == {"pkg.b", "pkg.sub.c"}
    assert graph["pkg.b"] == {"pkg.sub.c"}  # inside a function
    assert graph["pkg.sub.c"] == {"pkg"}  # ``f`` is the package's; ``c`` itself is no edge
    assert graph["scripts.run"] == {"scripts.helper", "pkg.sub"}  # a sibling by bare name
    assert find_cycle(graph) == ["pkg", "pkg.a", "pkg.b", "pkg.sub.c", "pkg"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_import_graph_has_no_cycle() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert "maaza_rt.prompt" in graph and "convert.common" in graph  # the walk found the repo
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_top_level_packages_import_one_way() -> None:
    cycle = find_cycle(package_graph(import_graph(ROOT, PACKAGES)))
    assert cycle is None, "packages import each other: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix()
                                        for p in (ROOT / "maaza_rt").rglob("*.py")))
def test_module_is_at_most_500_lines(path: str) -> None:
    n_lines = len((ROOT / path).read_text(encoding="utf-8").splitlines())
    if path in OVER_LIMIT:
        return
    assert n_lines <= MAX_LINES, f"{path} has {n_lines} lines: split it (the limit is {MAX_LINES})"


def test_over_limit_list_only_names_modules_still_over() -> None:
    # A module split below the limit leaves the list, so that it cannot grow back.
    for path in sorted(OVER_LIMIT):
        file = ROOT / path
        n_lines = len(file.read_text(encoding="utf-8").splitlines()) if file.is_file() else 0
        assert n_lines > MAX_LINES, f"{path} has {n_lines} lines: remove it from OVER_LIMIT"
