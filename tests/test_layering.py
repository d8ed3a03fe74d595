"""The import graph of foldstack's own modules has no cycle and respects the package layers.

The graph is computed from the source with :mod:`ast`, deferred imports (inside functions
and methods) included, so a cycle cannot hide behind a function-level import.  Imports by
string (``importlib.import_module``, the package's PEP 562 ``__getattr__``, the class names
that ``persist`` resolves when loading a model) are not edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

import foldstack

PACKAGE = "foldstack"
ROOT = Path(foldstack.__file__).resolve().parent

# Lowest first.  A module may import modules of its own layer or of a lower one, never of a
# higher one.  Each entry names a top-level module or subpackage of foldstack ("" is the
# package's own ``__init__``); a subpackage covers every module under it.
#
# ``persist`` is low: it needs only ``exceptions`` and ``_version`` (plus numpy, pandas,
# joblib), and reaches foldstack's model classes only by name through importlib when it
# loads a model; ``selection`` saves and loads fold models with it (deferred imports).
LAYERS: list[tuple[str, ...]] = [
    ("exceptions", "_version"),
    ("utils",),
    ("persist",),
    ("data",),
    ("models",),
    ("selection",),
    ("diagnostics", "ensemble"),
    ("report",),
    ("", "_auto", "cli"),
]


def module_name(path: Path, root: Path = ROOT, package: str = PACKAGE) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(modules: set[str], current: str, is_pkg: bool, node: ast.AST,
             package: str) -> set[str]:
    """The foldstack modules that one import statement imports."""
    out: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == package or alias.name.startswith(package + "."):
                out.add(_longest_module(modules, alias.name))
        return out
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = current.split(".") if is_pkg else current.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not (target == package or target.startswith(package + ".")):
        return out
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        # ``from foldstack import diagnostics`` imports the submodule itself
        out.add(sub if sub in modules else _longest_module(modules, target))
    return out


def _longest_module(modules: set[str], dotted: str) -> str:
    parts = dotted.split(".")
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    raise AssertionError(f"import of {dotted!r}: no such foldstack module")


def import_graph(root: Path = ROOT, package: str = PACKAGE
                 ) -> dict[str, dict[str, int]]:
    """Module -> {imported foldstack module: line of the first such import}."""
    files = {module_name(p, root, package): p for p in sorted(root.rglob("*.py"))}
    modules = set(files)
    graph: dict[str, dict[str, int]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: dict[str, int] = {}
        for node in ast.walk(tree):  # every import, at module level or deferred
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(modules, name, _is_package(path), node, package):
                    if target != name:
                        edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, set(comp)) for comp in components]


def _cycle_in(graph: dict[str, dict[str, int]], comp: set[str]) -> list[str]:
    """A concrete cycle through the component's smallest module: a -> b -> ... -> a."""
    start = min(comp)
    paths = {start: [start]}
    queue = [start]
    while queue:  # breadth first, within the component
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                return [*paths[v], start]
            if w in comp and w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError("unreachable: a strongly connected component has a cycle")


def layer_of(module: str, package: str = PACKAGE) -> int:
    rest = module[len(package) + 1:] if module != package else ""
    top = rest.split(".")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} is in no layer: add {top!r} to LAYERS in {__file__}")


def layer_violations(graph: dict[str, dict[str, int]], package: str = PACKAGE) -> list[str]:
    out = []
    for src, edges in sorted(graph.items()):
        for dst, line in sorted(edges.items()):
            if layer_of(dst, package) > layer_of(src, package):
                out.append(f"{src} (line {line}) imports {dst}: layer "
                           f"{LAYERS[layer_of(src, package)]} < {LAYERS[layer_of(dst, package)]}")
    return out


def _cycle_message(graph: dict[str, dict[str, int]], cycles: list[list[str]]) -> str:
    lines = [f"{len(cycles)} import cycle(s) between foldstack modules "
             "(deferred imports included):"]
    for cycle in cycles:
        hops = [f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
        lines.append("  " + " -> ".join([*hops, cycle[-1]]))
    return "\n".join(lines)


def test_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert "foldstack.selection._fold_average" in graph["foldstack.selection._engine"]
    # deferred, in a function body
    assert "foldstack.persist" in graph["foldstack.selection._report"]
    # ``from foldstack import diagnostics as D`` is an edge to the subpackage
    assert "foldstack.diagnostics" in graph["foldstack.report._figures"]
    # ``import foldstack as fs``
    assert "foldstack" in graph["foldstack.cli._cv"]


def test_no_import_cycle():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, _cycle_message(graph, cycles)


def test_every_module_has_a_layer():
    for module in import_graph():
        layer_of(module)


def test_no_module_imports_a_higher_layer():
    violations = layer_violations(import_graph())
    assert not violations, ("modules that import a higher layer (layers, lowest first: "
                            f"{LAYERS}):\n  " + "\n  ".join(violations))


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_checks_catch_a_deferred_cycle_and_a_layer_violation(tmp_path):
    pkg = tmp_path / "foldstack"
    _write(pkg, {
        "__init__.py": "",
        "exceptions.py": "",
        "selection/__init__.py": "from .a import f\n",
        "selection/a.py": "from foldstack.selection.b import g\n\ndef f():\n    return g\n",
        "selection/b.py": "def g():\n    from . import a\n    return a\n",
        "utils/__init__.py": "",
        "utils/x.py": "def h():\n    import foldstack.report as r\n    return r\n",
        "report/__init__.py": "from foldstack import exceptions\n",
    })
    graph = import_graph(pkg, PACKAGE)
    assert graph["foldstack.selection.b"] == {"foldstack.selection.a": 2}
    assert graph["foldstack.report"] == {"foldstack.exceptions": 1}
    cycles = find_cycles(graph)
    assert cycles == [["foldstack.selection.a", "foldstack.selection.b",
                       "foldstack.selection.a"]]
    assert "foldstack.selection.a (line 1) -> foldstack.selection.b (line 2) -> " \
           "foldstack.selection.a" in _cycle_message(graph, cycles)
    violations = layer_violations(graph)
    assert len(violations) == 1
    assert violations[0].startswith("foldstack.utils.x (line 2) imports foldstack.report")
