"""Run the code cells of a notebook in order, as a kernel would, and store their outputs.

    python examples/run_notebook.py examples/python_api.ipynb

Each cell runs in one shared namespace with the notebook's folder as the working
directory. What a cell shows is what Jupyter shows: the value of its last expression
(``text/plain`` from ``repr``, ``text/html`` from ``_repr_html_``), what it prints, and
the warnings it issues. ``tests/test_notebook.py`` runs the same function and checks
that the stored outputs are still what the code gives, so the notebook cannot rot.
Needs only the standard library (and what the notebook imports).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any


def _display(value: object, count: int) -> dict[str, Any]:
    data: dict[str, Any] = {"text/plain": _lines(repr(value))}
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        text = html()
        if text:
            data["text/html"] = _lines(text)
    return {"output_type": "execute_result", "execution_count": count, "data": data,
            "metadata": {}}  # fmt: skip


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def run_cell(source: str, namespace: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """The outputs of one cell: printed text, warnings, then its last expression's value."""
    tree = ast.parse(source)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        exec(compile(tree, "<cell>", "exec"), namespace)
        value = eval(compile(last, "<cell>", "eval"), namespace) if last is not None else None
    outputs: list[dict[str, Any]] = []
    if out.getvalue():
        outputs.append({"output_type": "stream", "name": "stdout", "text": _lines(out.getvalue())})
    if caught:
        text = "".join(f"{w.category.__name__}: {w.message}\n" for w in caught)
        outputs.append({"output_type": "stream", "name": "stderr", "text": _lines(text)})
    if value is not None:
        outputs.append(_display(value, count))
    return outputs


def run_notebook(path: Path) -> list[list[dict[str, Any]]]:
    """The outputs of every code cell of the notebook at ``path``."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    results = []
    here = os.getcwd()
    os.chdir(path.parent)
    try:
        count = 0
        for cell in doc["cells"]:
            if cell["cell_type"] != "code":
                continue
            count += 1
            results.append(run_cell("".join(cell["source"]), namespace, count))
    finally:
        os.chdir(here)
    return results


def render(path: Path) -> None:
    """Run the notebook and write the outputs into it."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    outputs = iter(run_notebook(path))
    count = 0
    for cell in doc["cells"]:
        if cell["cell_type"] == "code":
            count += 1
            cell["outputs"] = next(outputs)
            cell["execution_count"] = count
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        render(Path(name))
        print(f"rendered {name}")
