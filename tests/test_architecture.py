"""Who may import what inside lossctl (docs/architecture.md): checked on the source.

Every ``import`` of a lossctl module counts, at module level or inside a function
(lazy imports are still dependencies); imports under ``if TYPE_CHECKING:`` do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lossctl"

#: Layer -> the lossctl modules (prefixes) it may import besides itself.
#: What the core and everything above it may use.
BASICS = (
    "lossctl.losses",
    "lossctl.inputs",
    "lossctl.report",
    "lossctl.options",
    "lossctl.errors",
    "lossctl.plugins",
)
RULES: dict[str, tuple[str, ...]] = {
    "lossctl.errors": (),
    "lossctl.report": (),
    "lossctl.options": (),
    "lossctl._lazy": (),
    "lossctl.losses": ("lossctl.errors", "lossctl._lazy"),
    "lossctl.inputs": ("lossctl.errors",),
    "lossctl.config": ("lossctl.errors", "lossctl.options"),
    "lossctl.plugins": ("lossctl.losses", "lossctl.config", "lossctl.errors", "lossctl.options"),
    "lossctl.core": BASICS,
    "lossctl.core.stats": ("lossctl.errors", "lossctl.options"),
    "lossctl.engines": ("lossctl.core", *BASICS),
    # The chunk step: what every engine runs, importing no other engine and no flow.
    "lossctl.engines.base": ("lossctl.core", *BASICS),
    "lossctl.flows": ("lossctl.engines", "lossctl.core", *BASICS),
    "lossctl.render": ("lossctl.report", "lossctl.losses", "lossctl.version"),
    "lossctl.version": (),
    # The Python API: the flows, their renderers and the option parsers, never the CLI.
    "lossctl.api": (
        "lossctl.flows",
        "lossctl.engines",
        "lossctl.core",
        "lossctl.render",
        "lossctl.config",
        "lossctl.version",
        *BASICS,
    ),
    # plot computes its numbers through the flows (same reading, same checks).
    "lossctl.plot": (
        "lossctl.flows",
        "lossctl.engines.base",
        "lossctl.core",
        *BASICS,
        "lossctl.render.numbers",
    ),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The module an imported name lives in (``lossctl.losses.BoundLoss`` -> the package)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
    return hidden


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        hidden = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t.split(".")[0] == "lossctl":
                    found = _resolve(t, modules)
                    if found and found != name:
                        graph[name].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [{"a", "b", "c"}]


def test_the_graph_sees_lazy_imports_and_not_type_checking_ones() -> None:
    graph = import_graph()
    assert "lossctl.engines.dask_engine" in graph["lossctl.flows.eval"]  # inside a function
    assert "lossctl.engines.base" in graph["lossctl.engines.dask_engine"]
    assert "lossctl.inputs.readers" in graph["lossctl.inputs.datasets"]
    # dask_engine names core.prepare.Prepared only under TYPE_CHECKING: not an edge
    assert "lossctl.core.prepare" not in graph["lossctl.engines.dask_engine"]
    text = (PACKAGE / "engines/dask_engine.py").read_text()
    assert "from lossctl.core.prepare import Prepared" in text


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    allowed = RULES[layer]
    bad = []
    for module, targets in import_graph().items():
        if module != layer and not module.startswith(layer + "."):
            continue
        for t in sorted(targets):
            inside = t == layer or t.startswith(layer + ".")
            # "lossctl" alone is the package itself (its __version__), not all of it.
            ok = any(t == a or (a != "lossctl" and t.startswith(a + ".")) for a in allowed)
            if not (inside or ok):
                bad.append(f"{module} imports {t}")
    assert bad == []


COMMANDS = ("evaluate", "compare", "recommend", "plot", "catalog")


def test_command_modules_do_not_import_each_other() -> None:
    graph = import_graph()
    modules = {f"lossctl.cli.{c}" for c in COMMANDS}
    bad = [f"{m} imports {t}" for m in sorted(modules) for t in sorted(graph[m] & modules)]
    assert bad == []


def _third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    hidden = _type_checking_nodes(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
    return out


def test_only_inputs_imports_pyarrow() -> None:
    bad = [
        name
        for name, path in sorted(_modules().items())
        if not name.startswith("lossctl.inputs") and "pyarrow" in _third_party_imports(path)
    ]
    assert bad == []
