"""Config files and plugins: which config counts, which commands load its plugins,
--no-plugins, unsafe permissions, and plugin code that cannot change exit codes or
other losses' results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLE_DATA, bind, valid_inputs

DIABETES = SAMPLE_DATA / "diabetes_regression.csv"
#: The cost of mse on DIABETES (y_pred).
MSE = 2991.03


def lossctl(*args: object, cwd: Path, env: dict[str, str] | None = None, **kw: object):
    return subprocess.run(
        ["lossctl", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,
        **kw,  # type: ignore[arg-type]
    )


def assert_error(res: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> None:
    assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, res.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def evil_plugin(folder: Path, marker: Path, name: str = "evil.py") -> Path:
    """A plugin that leaves ``marker`` behind when it is imported."""
    path = folder / name
    path.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from lossctl.losses import LossSpec

            Path({str(marker)!r}).write_text("ran")

            def evil(y_true, y_pred):
                return (y_pred - y_true) ** 2

            LOSSES = [LossSpec(name="evil", fn=evil, task="regression",
                               prediction_kind="value", formula="r²", summary="s",
                               explain="e", reference="r")]
            """
        )
    )
    return path


def loss_plugin(folder: Path, body: str, *, top: str = "", name: str = "mine.py") -> Path:
    """A plugin declaring the regression loss ``mine`` with the given function body."""
    path = folder / name
    src = (
        "import sys\nimport numpy as np\nfrom lossctl.losses import LossSpec\n"
        + textwrap.dedent(top)
        + "\ndef mine(y_true, y_pred):\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
        + '\nLOSSES = [LossSpec(name="mine", fn=mine, task="regression", prediction_kind="value",'
        + ' formula="f", summary="s", explain="e", reference="r", zero_at_perfect=False)]\n'
    )
    path.write_text(src)
    return path


# --- 1. which config counts --------------------------------------------------------------


def test_parent_config_without_a_repository_is_ignored(tmp_path):
    marker = tmp_path / "ran"
    evil_plugin(tmp_path, marker)
    (tmp_path / "lossctl.toml").write_text('plugin = ["evil.py"]\nformat = "json"\n')
    sub = tmp_path / "work"
    sub.mkdir()
    for args in (["losses"], ["explain", "mse"], ["eval", DIABETES, "-l", "mse"]):
        res = lossctl(*args, cwd=sub)
        assert res.returncode == 0, res.stderr
        assert not res.stdout.startswith("{")  # format = "json" was not read either
    assert not marker.exists()


def test_config_above_the_repository_root_is_ignored(tmp_path):
    marker = tmp_path / "ran"
    evil_plugin(tmp_path, marker)
    (tmp_path / "lossctl.toml").write_text('plugin = ["evil.py"]\n')
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / ".git").write_text("gitdir: /elsewhere\n")  # a worktree: .git is a file
    res = lossctl("eval", DIABETES, "-l", "mse", "--json", cwd=repo / "src")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["plugins"] == [] and doc["config"] is None
    assert not marker.exists()


@pytest.mark.parametrize("vcs", [".git", ".hg"])
def test_config_of_the_repository_loads_plugins_only_for_computing_commands(tmp_path, vcs):
    marker = tmp_path / "ran"
    repo = tmp_path / "repo"
    (repo / vcs).mkdir(parents=True)
    (repo / "a" / "b").mkdir(parents=True)
    plugin = evil_plugin(repo, marker)
    config = repo / "lossctl.toml"
    config.write_text('plugin = ["evil.py"]\n')
    cwd = repo / "a" / "b"
    for args in (["losses"], ["explain", "mse"], ["losses", "--task", "regression"]):
        res = lossctl(*args, cwd=cwd)
        assert res.returncode == 0, res.stderr
        assert "evil" not in res.stdout
    assert not marker.exists()
    # A plugin named on the command line is listed and explained.
    res = lossctl("losses", "--plugin", plugin, cwd=cwd)
    assert res.returncode == 0 and "evil" in res.stdout
    res = lossctl("explain", "evil", "--plugin", plugin, cwd=cwd)
    assert res.returncode == 0, res.stderr
    marker.unlink()
    # eval loads it, and says so.
    res = lossctl("eval", DIABETES, "-l", "mse", "--json", cwd=cwd)
    assert res.returncode == 0, res.stderr
    assert marker.exists()
    doc = json.loads(res.stdout)
    assert doc["plugins"] == [str(plugin)]
    assert doc["config"] == str(config)
    res = lossctl("eval", DIABETES, "-l", "mse", cwd=cwd, env={"COLUMNS": "400"})
    flat = " ".join(res.stdout.split())
    assert f"plugins: {plugin} (from lossctl.toml)" in flat
    assert f"config: {config}" in flat
    res = lossctl("eval", DIABETES, "-l", "mse", "--format", "markdown", cwd=cwd)
    assert f"plugins: {plugin} (from lossctl.toml)" in res.stdout
    res = lossctl("compare", DIABETES, DIABETES, "--names", "a,b", "-l", "mse", "--json", cwd=cwd)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["plugins"] == [str(plugin)] and doc["config"] == str(config)


def test_no_plugins_turns_off_config_and_entry_point_plugins(tmp_path):
    marker = tmp_path / "ran"
    ep_marker = tmp_path / "ep_ran"
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    evil_plugin(repo, marker)
    (repo / "lossctl.toml").write_text('plugin = ["evil.py"]\n')
    # An installed package with a lossctl.losses entry point.
    site = tmp_path / "site"
    dist = site / "evilpkg-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evilpkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lossctl.losses]\nep = evilpkg_losses:LOSSES\n")
    ep = evil_plugin(site, ep_marker, "evilpkg_losses.py")
    ep.write_text(ep.read_text().replace('name="evil"', 'name="evil2"'))
    env = {"PYTHONPATH": str(site)}
    res = lossctl("losses", cwd=repo, env=env)
    assert res.returncode == 0, res.stderr
    assert "evil2" in res.stdout and ep_marker.exists()  # entry points load by default
    ep_marker.unlink()
    for args in (
        ["losses", "--no-plugins"],
        ["explain", "mse", "--no-plugins"],
        ["eval", DIABETES, "-l", "mse", "--no-plugins"],
        ["compare", DIABETES, DIABETES, "--names", "a,b", "-l", "mse", "--no-plugins"],
        ["recommend", DIABETES, "--no-plugins"],
    ):
        res = lossctl(*args, cwd=repo, env=env)
        assert res.returncode == 0, (args, res.stderr)
        assert "evil2" not in res.stdout
    assert not marker.exists() and not ep_marker.exists()
    # --plugin still loads with --no-plugins: the user asked for that file.
    mine = loss_plugin(tmp_path, "return (y_pred - y_true) ** 2")
    res = lossctl("eval", DIABETES, "-l", "mine", "--plugin", mine, "--no-plugins", "--json",
                  cwd=repo, env=env)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["plugins"] == [str(mine)]
    assert not marker.exists() and not ep_marker.exists()


def repository_with_plugin(tmp_path):
    """A repository whose lossctl.toml names a plugin; (marker, plugin, config)."""
    marker = tmp_path / "ran"
    (tmp_path / ".git").mkdir()
    plugin = evil_plugin(tmp_path, marker)
    config = tmp_path / "lossctl.toml"
    config.write_text('plugin = ["evil.py"]\n')
    return marker, plugin, config


@pytest.mark.parametrize("target", ["config", "plugin"])
@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_files_writable_by_others_are_refused(tmp_path, target, mode):
    marker, plugin, config = repository_with_plugin(tmp_path)
    bad = config if target == "config" else plugin
    bad.chmod(mode)
    res = lossctl("eval", DIABETES, "-l", "mse", cwd=tmp_path)
    assert_error(res, str(bad), "writable by other users", f"chmod go-w {bad}")
    assert not marker.exists()
    if target == "plugin":  # named on the command line: refused too
        res = lossctl("eval", DIABETES, "-l", "mse", "--plugin", plugin, "--no-config",
                      cwd=tmp_path)  # fmt: skip
        assert_error(res, str(plugin), "chmod go-w")
        assert not marker.exists()
    else:
        # --config names it explicitly: still refused (it may name plugins).
        res = lossctl("losses", "--config", config, cwd=tmp_path / ".git")
        assert_error(res, str(config), "chmod go-w")
        # --no-config does not read it.
        res = lossctl("eval", DIABETES, "-l", "mse", "--no-config", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert not marker.exists()


@pytest.mark.parametrize("target", ["config", "plugin"])
def test_files_owned_by_another_user_are_refused(tmp_path, target):
    if os.geteuid() != 0:
        pytest.skip("giving a file away needs root")
    marker, plugin, config = repository_with_plugin(tmp_path)
    bad = config if target == "config" else plugin
    os.chown(bad, 65534, 65534)
    res = lossctl("eval", DIABETES, "-l", "mse", cwd=tmp_path)
    assert_error(res, str(bad), "owned by another user (uid 65534)")
    assert not marker.exists()
    # A file owned by root is fine.
    os.chown(bad, 0, 0)
    res = lossctl("eval", DIABETES, "-l", "mse", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


# --- 2. plugin code cannot change the exit code or other losses --------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("sys.exit(0)", "SystemExit"),
        ("raise SystemExit('m')", "SystemExit: m"),
        ("sys.exit(1)", "SystemExit"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("raise ZeroDivisionError('boom')", "ZeroDivisionError: boom"),
        ("y_true[:] = 0\nreturn y_pred", "read-only"),
        ("y_pred -= y_true\nreturn y_pred", "read-only"),
        ("return np.zeros(len(y_true) + 3)", "shape (445,), expected (442,)"),
        ("return 1.0", "shape (), expected (442,)"),
        ("return np.zeros((len(y_true), 2))", "shape (442, 2), expected (442,)"),
        ("return ['a'] * len(y_true)", "not real numbers"),
        ("return (y_pred - y_true) * 1j", "not real numbers"),
        ("return np.array([object()] * len(y_true))", "not real numbers"),
        ("out = (y_pred - y_true) ** 2\nout[3] = np.nan\nreturn out", "1 non-finite value"),
        ("return np.full(len(y_true), np.inf)", "442 non-finite values"),
    ],
)
def test_plugin_loss_failures_are_exit_2_naming_plugin_and_loss(tmp_path, body, needle):
    plugin = loss_plugin(tmp_path, body)
    res = lossctl("eval", DIABETES, "-l", "mse,mine,mae", "--plugin", plugin, "--max", "mse=1",
                  cwd=tmp_path)  # fmt: skip
    assert_error(res, "loss 'mine'", f"plugin {plugin}", needle)


@pytest.mark.parametrize(
    "top",
    ["sys.exit(0)", "raise SystemExit('m')", "raise KeyboardInterrupt", "raise GeneratorExit"],
)
def test_plugin_import_failures_are_exit_2(tmp_path, top):
    plugin = loss_plugin(tmp_path, "return y_pred", top=top)
    for args in (["losses"], ["eval", DIABETES, "-l", "mse", "--max", "mse=1"]):
        res = lossctl(*args, "--plugin", plugin, cwd=tmp_path)
        assert_error(res, str(plugin), "failed to import")


def test_plugin_check_and_check_params_failures_are_exit_2(tmp_path):
    plugin = tmp_path / "chk.py"
    plugin.write_text(
        textwrap.dedent(
            """
            import sys
            from lossctl.losses import LossSpec

            def bad_check(name, y_true, y_pred, params):
                sys.exit(0)

            def bad_params(name, params):
                raise SystemExit(0)

            COMMON = dict(fn=lambda t, p: (p - t) ** 2, task="regression",
                          prediction_kind="value", formula="f", summary="s", explain="e",
                          reference="r")
            LOSSES = [LossSpec(name="chk", check=bad_check, **COMMON),
                      LossSpec(name="prm", check_params=bad_params, **COMMON)]
            """
        )
    )
    res = lossctl("eval", DIABETES, "-l", "chk", "--plugin", plugin, cwd=tmp_path)
    assert_error(res, "loss 'chk'", str(plugin), "SystemExit")
    res = lossctl("eval", DIABETES, "-l", "prm", "--plugin", plugin, cwd=tmp_path)
    assert_error(res, "loss 'prm'", str(plugin), "SystemExit")


def test_plugin_cannot_change_builtin_results(tmp_path):
    # The plugin swallows the failed write: the built-in losses after it are unchanged.
    plugin = loss_plugin(
        tmp_path, "try:\n    y_true[:] = 0\nexcept ValueError:\n    pass\nreturn y_pred * 0"
    )
    res = lossctl("eval", DIABETES, "-l", "mine,mse", "--plugin", plugin, "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["losses"]["mse"]["cost"] == pytest.approx(MSE, rel=1e-6)
    assert doc["plugins"] == [str(plugin)]


def test_plugin_integer_and_bool_outputs_are_fine(tmp_path):
    for body in ("return (y_pred > y_true)", "return (y_pred > y_true).astype(np.int32)"):
        plugin = loss_plugin(tmp_path, body)
        res = lossctl("eval", DIABETES, "-l", "mine", "--plugin", plugin, "--json", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert 0 < json.loads(res.stdout)["losses"]["mine"]["cost"] < 1


def test_plugin_errors_in_worker_threads_are_exit_2(tmp_path, monkeypatch):
    from lossctl.errors import PluginError
    from lossctl.flows.eval import run_eval
    from lossctl.inputs import readers
    from lossctl.options import EvalOptions
    from lossctl.plugins import load_registry

    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(readers, "PART_BYTES", 1500)
    monkeypatch.setattr(readers, "PARALLEL_MIN_ROWS", 0)
    plugin = loss_plugin(tmp_path, "sys.exit(0)", name="threads.py")
    reg = load_registry([plugin], entry_points=False)
    with pytest.raises(PluginError, match="SystemExit"):
        run_eval(EvalOptions(path=str(DIABETES), losses=["mine"], registry=reg, workers=2))


def test_builtin_loss_raising_stays_a_bug():
    from lossctl.errors import PluginError
    from lossctl.losses import BoundLoss, LossSpec

    def broken(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise RuntimeError("bug")

    common = dict(task="regression", prediction_kind="value", formula="f", summary="s",
                  explain="e", reference="r")  # fmt: skip
    builtin = BoundLoss(LossSpec(name="b", fn=broken, **common), {}, "b")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="bug"):
        builtin.per_sample(np.ones(3), np.ones(3))
    plugin = LossSpec(name="p", fn=broken, origin="plugin x.py", **common)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match=r"loss 'p' from plugin x\.py raised RuntimeError: bug"):
        BoundLoss(plugin, {}, "p").per_sample(np.ones(3), np.ones(3))


def test_ctrl_c_in_a_plugin_loss_is_still_130(tmp_path):
    started = tmp_path / "started"
    plugin = loss_plugin(
        tmp_path,
        f"from pathlib import Path\nPath({str(started)!r}).write_text('x')\n"
        "import time\ntime.sleep(30)\nreturn y_pred",
    )
    proc = subprocess.Popen(
        ["lossctl", "eval", str(DIABETES), "-l", "mine", "--plugin", str(plugin)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "plugin" not in err  # not taken for the plugin's fault


# --- 3. built-in losses work on read-only inputs and never write into them ----------------


def test_builtin_losses_do_not_write_into_their_inputs():
    from lossctl.losses import BUILTIN, BoundLoss

    for spec in BUILTIN:
        y, p = valid_inputs(spec)
        y0, p0 = y.copy(), p.copy()
        for a in (y, p):
            a.flags.writeable = False
        loss = bind(spec)
        assert isinstance(loss, BoundLoss)
        if spec.binned:  # no per-sample value: the cost reads the inputs
            assert np.isfinite(loss.cost(y, p)), spec.name
        else:
            out = loss.per_sample(y, p, scale=2.0 if spec.scaled else None)
            assert out.shape == (y.shape[0],) and out.dtype == np.float64, spec.name
        np.testing.assert_array_equal(y, y0)
        np.testing.assert_array_equal(p, p0)


def test_shared_mse_rmse_values_are_not_written_into():
    from lossctl.core.accumulate import Evaluation, per_sample_losses
    from lossctl.losses import builtin_registry

    reg = builtin_registry()
    losses = [reg.loss("mse"), reg.loss("rmse"), reg.loss("mae")]
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=100), rng.normal(size=100)
    values = per_sample_losses(losses, y, p)
    before = {k: v.copy() for k, v in values.items()}
    ev = Evaluation(losses)
    ev.add(values, rng.uniform(size=100), (rng.integers(0, 3, 100), ["a", "b", "c"]))
    for k, v in values.items():
        np.testing.assert_array_equal(v, before[k])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_recommend_names_the_config_and_its_plugins(tmp_path):
    marker, plugin, config = repository_with_plugin(tmp_path)
    res = lossctl("recommend", DIABETES, "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["plugins"] == [str(plugin.resolve())] and doc["config"] == str(config)
    assert marker.exists()  # recommend computes losses: the config's plugin ran, and says so
    res = lossctl("recommend", DIABETES, cwd=tmp_path, env={**os.environ, "COLUMNS": "400"})
    assert f"config: {config}" in res.stdout and "plugins: " in res.stdout
