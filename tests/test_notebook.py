"""The example notebook runs, and its stored outputs are what its code gives today."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "python_api.ipynb"


def _runner() -> Any:
    spec = importlib.util.spec_from_file_location("run_notebook", ROOT / "examples/run_notebook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shown(outputs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What a reader sees of a cell's outputs: streams, and the plain text of values."""
    out = []
    for o in outputs:
        if o["output_type"] == "stream":
            out.append((o["name"], "".join(o["text"])))
        else:
            out.append(("value", "".join(o["data"]["text/plain"])))
    return out


def test_the_notebook_runs_and_its_outputs_are_current() -> None:
    doc = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    stored = [c["outputs"] for c in doc["cells"] if c["cell_type"] == "code"]
    fresh = _runner().run_notebook(NOTEBOOK)
    assert len(fresh) == len(stored)
    for i, (now, then) in enumerate(zip(fresh, stored, strict=True)):
        assert _shown(now) == _shown(then), (
            f"code cell {i + 1} of {NOTEBOOK.name} shows something else now; "
            "re-render it: python examples/run_notebook.py examples/python_api.ipynb"
        )
    assert all(stored), "every code cell shows something"
    # The reports render as HTML tables in Jupyter.
    html = [o for outs in stored for o in outs if "text/html" in o.get("data", {})]
    assert any("lossctl-report" in "".join(o["data"]["text/html"]) for o in html)


def test_the_readme_python_example_runs() -> None:
    import os
    import re
    import warnings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## In Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the example runs without a warning
            exec(compile(code.group(1), "README.md", "exec"), namespace)
    finally:
        os.chdir(here)
    assert round(namespace["report"].cost("mae"), 4) == 44.4254
    assert list(namespace["rows"].columns) == ["mae", "huber:delta=20"]
    assert namespace["result"].to_frame().shape == (4, 10)
