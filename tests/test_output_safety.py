"""``--per-sample``: never over the input or anything else without ``--force``, whole or
not at all, no temporary file left behind on errors and signals.

Every case runs the installed ``lossctl`` command in a subprocess.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATA

REG = SAMPLE_DATA / "diabetes_regression.csv"
needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="needs dask and distributed"
)


def lossctl(
    cwd: Path, *args: str | Path, timeout: float = 120, **kw: object
) -> subprocess.CompletedProcess[str]:
    kw.setdefault("capture_output", True)
    return subprocess.run(
        ["lossctl", "eval", *map(str, args)], text=True, cwd=cwd, timeout=timeout, **kw
    )  # type: ignore[call-overload]


def assert_error(res: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2 with exactly one ``Error:`` line (returned) holding every needle."""
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, res.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def snapshot(root: Path) -> dict[str, str | bytes | None]:
    """Every path below root with its content (None for folders, the target for links)."""
    out: dict[str, str | bytes | None] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = os.readlink(p)
        else:
            out[rel] = None if p.is_dir() else p.read_bytes()
    return out


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files or folders lossctl may have left."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def regression_csv(path: Path, n: int, seed: int = 0) -> Path:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    y = rng.normal(100, 20, n)
    table = pa.table({"y_true": y, "y_pred": y + rng.normal(0, 5, n)})
    pcsv.write_csv(table, path)
    return path


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 2.5M rows: writing their per-sample file takes a second or two."""
    return regression_csv(tmp_path_factory.mktemp("big") / "big.csv", 2_500_000)


@contextlib.contextmanager
def tmpfs(size: str, *options: str) -> Iterator[Path]:
    """A small tmpfs mounted on a fresh folder (the test is skipped without mount rights)."""
    folder = Path(tempfile.mkdtemp(prefix="lossctl-tmpfs-"))
    opts = ",".join([f"size={size}", *options])
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)],
                         capture_output=True, text=True)  # fmt: skip
    if res.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


# --- 1. an existing target is kept unless --force ------------------------------------------


def test_existing_output_file_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("the user's file\n")
    res = lossctl(tmp_path, REG, "-l", "mae", "--per-sample", "out.csv", "-q")
    assert_error(res, "out.csv exists", "--force")
    assert out.read_text() == "the user's file\n"
    assert leftovers(tmp_path) == []
    res = lossctl(tmp_path, REG, "-l", "mae", "--per-sample", "out.csv", "-q", "--force")
    assert res.returncode == 0, res.stderr
    assert len(pd.read_csv(out)) == 442
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_output_that_is_a_folder_is_refused(tmp_path: Path, force: list[str]) -> None:
    (tmp_path / "out.csv").mkdir()
    (tmp_path / "out.csv" / "keep.txt").write_text("x")
    before = snapshot(tmp_path)
    res = lossctl(tmp_path, REG, "-l", "mae", "--per-sample", "out.csv", "-q", *force)
    assert_error(res, "out.csv", "folder")
    assert snapshot(tmp_path) == before


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """proj/preds (a dataset of two CSV files) and a user's notes.txt beside it."""
    proj = tmp_path / "proj"
    (proj / "preds").mkdir(parents=True)
    df = pd.read_csv(REG)
    df.iloc[:200].to_csv(proj / "preds" / "a.csv", index=False)
    df.iloc[200:].to_csv(proj / "preds" / "b.csv", index=False)
    (proj / "notes.txt").write_text("mine\n")
    return tmp_path


@pytest.mark.parametrize(
    "target",
    ["proj", "proj/preds", "proj/preds/inside", ".", "notes_dir", "proj/notes.txt"],
)
def test_dask_folder_never_replaces_what_lossctl_did_not_write(project: Path, target: str) -> None:
    """Even with --force, refused before any cluster starts: the input, its parents, the
    working directory, a user's folder or file."""
    (project / "notes_dir").mkdir()
    (project / "notes_dir" / "todo.txt").write_text("keep\n")
    before = snapshot(project)
    args = ["proj/preds", "-l", "mae", "--engine", "dask", "--per-sample", target, "-q"]
    res = lossctl(project, *args, "--force", timeout=30)
    assert_error(res, target if target != "." else "")
    assert snapshot(project) == before


def test_dask_symlinked_folder_target_is_refused(project: Path) -> None:
    (project / "user").mkdir()
    (project / "user" / "data.txt").write_text("keep\n")
    (project / "link").symlink_to(project / "user")
    before = snapshot(project)
    res = lossctl(project, "proj/preds", "--engine", "dask", "--per-sample", "link", "-q",
                  "--force", timeout=30)  # fmt: skip
    assert_error(res, "link")
    assert snapshot(project) == before


@needs_dask
def test_dask_folder_mode_marker_and_force_replaces_own_folder(project: Path) -> None:
    old = os.umask(0o027)
    try:
        args = ["proj/preds", "-l", "mae", "--engine", "dask", "--per-sample", "out", "-q"]
        res = lossctl(project, *args)
        assert res.returncode == 0, res.stderr
        out = project / "out"
        assert stat.S_IMODE(out.stat().st_mode) == 0o750  # the umask's mode, not 0700
        assert (out / ".lossctl-per-sample").is_file()
        assert len(sorted(out.glob("part-*.parquet"))) == 2
        assert_error(lossctl(project, *args), "out exists", "--force")
        res = lossctl(project, *args, "--force")
        assert res.returncode == 0, res.stderr
        got = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("part-*.parquet")))
        assert len(got) == 442
        assert [p.name for p in project.iterdir() if p.name.startswith(".")] == []
        (out / "mine.txt").write_text("a user's file\n")  # no longer only lossctl's
        assert_error(lossctl(project, *args, "--force"), "out")
        assert (out / "mine.txt").exists()
    finally:
        os.umask(old)


@needs_dask
def test_dask_bad_part_leaves_no_temporary_folder(project: Path) -> None:
    bad = project / "proj" / "preds" / "b.csv"
    df = pd.read_csv(bad)
    df.loc[df.index[5], "y_pred"] = -5.0
    df.to_csv(bad, index=False)
    res = lossctl(project, "proj/preds", "-l", "msle", "--engine", "dask", "--per-sample",
                  "out", "-q")  # fmt: skip
    assert_error(res, "msle")
    assert not (project / "out").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".")] == []


# --- 2. never over the input, whatever form the input takes --------------------------------


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_stdin_that_is_the_target_file(tmp_path: Path, force: list[str]) -> None:
    src = tmp_path / "p.csv"
    shutil.copy(REG, src)
    before = src.read_bytes()
    with src.open("rb") as stdin:
        res = lossctl(tmp_path, "-", "-l", "mae", "--per-sample", "p.csv", "-q", *force,
                      stdin=stdin)  # fmt: skip
    assert_error(res, "p.csv", "input")
    assert src.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("ds", "ds/b.csv"),
        ("ds", "ds/new.csv"),
        ("ds/*.csv", "ds/a.csv"),
        ("ds/*.csv", "ds/b.csv"),
        ("file://{root}/ds/a.csv", "ds/a.csv"),
        ("file://{root}/ds", "ds/b.csv"),
        ("ds", "hardlink.csv"),
    ],
)
def test_dataset_inputs_are_never_overwritten(tmp_path: Path, source: str, target: str) -> None:
    """Even with --force."""
    ds = tmp_path / "ds"
    ds.mkdir()
    df = pd.read_csv(REG)
    df.iloc[:200].to_csv(ds / "a.csv", index=False)
    df.iloc[200:].to_csv(ds / "b.csv", index=False)
    os.link(ds / "b.csv", tmp_path / "hardlink.csv")
    before = snapshot(tmp_path)
    src = source.format(root=tmp_path)
    res = lossctl(tmp_path, src, "-l", "mae", "--per-sample", target, "-q", "--force")
    assert_error(res, target.rsplit("/", 1)[-1])
    assert snapshot(tmp_path) == before


# --- 3. no temporary file left behind on signals -------------------------------------------


def wait_for(predicate: object, proc: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"lossctl ended (exit {proc.returncode}) before the signal: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("timed out waiting for lossctl")
        time.sleep(0.005)


@pytest.mark.parametrize(
    ("sig", "suffix"),
    [(signal.SIGINT, ".csv"), (signal.SIGTERM, ".csv"), (signal.SIGHUP, ".csv"),
     (signal.SIGTERM, ".parquet")],
    ids=["INT-csv", "TERM-csv", "HUP-csv", "TERM-parquet"],
)  # fmt: skip
def test_signal_while_writing_leaves_nothing(
    tmp_path: Path, big_csv: Path, sig: signal.Signals, suffix: str
) -> None:
    out = f"out{suffix}"
    proc = subprocess.Popen(
        ["lossctl", "eval", str(big_csv), "-l", "mae", "--per-sample", out, "-q"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def writing() -> bool:
        return any(p.stat().st_size > 0 for p in tmp_path.glob(f".{out}.*"))

    wait_for(writing, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert list(tmp_path.iterdir()) == []
    assert "Traceback" not in err
    assert proc.returncode == 128 + sig, err


# --- 4. write failures: exit 2, one line, nothing left --------------------------------------


def test_disk_full(tmp_path: Path) -> None:
    src = regression_csv(tmp_path / "in.csv", 50_000)
    with tmpfs("64k") as small:
        res = lossctl(small, src, "-l", "mae", "--per-sample", "out.csv", "-q")
        assert_error(res, "out.csv", "No space left on device")
        assert list(small.iterdir()) == []


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_file_too_large(tmp_path: Path, suffix: str) -> None:
    src = regression_csv(tmp_path / "in.csv", 50_000)
    (tmp_path / "w").mkdir()
    res = lossctl(tmp_path / "w", src, "-l", "mae", "--per-sample", f"out{suffix}", "-q",
                  preexec_fn=_limit_file_size)  # fmt: skip
    assert_error(res, f"out{suffix}", "File too large")
    assert list((tmp_path / "w").iterdir()) == []


def test_read_only_folder(tmp_path: Path) -> None:
    with tmpfs("1m", "ro") as ro:
        res = lossctl(ro, REG, "-l", "mae", "--per-sample", "out.csv", "-q")
        assert_error(res, "out.csv", "Read-only file system")
        assert list(ro.iterdir()) == []


def test_folder_without_write_permission(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: an immutable folder refuses root too
        res = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot make a folder read-only for root: {res.stderr.strip()}")
    else:
        folder.chmod(0o555)
    try:
        res = lossctl(folder, REG, "-l", "mae", "--per-sample", "out.csv", "-q")
        assert_error(res, "out.csv")
        assert list(folder.iterdir()) == []
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=False)
        folder.chmod(0o755)


@pytest.fixture
def shm_folder() -> Iterator[Path]:
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == os.stat("/tmp").st_dev:
        pytest.skip("needs /dev/shm on another filesystem than /tmp")
    folder = Path(tempfile.mkdtemp(prefix="lossctl-", dir="/dev/shm"))
    yield folder
    shutil.rmtree(folder)


def test_symlink_to_another_filesystem(tmp_path: Path, shm_folder: Path) -> None:
    """The link is followed: the file is written where it points, the link is kept."""
    (tmp_path / "out.csv").symlink_to(shm_folder / "x.csv")
    res = lossctl(tmp_path, REG, "-l", "mae", "--per-sample", "out.csv", "-q")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out.csv").is_symlink()
    assert len(pd.read_csv(shm_folder / "x.csv")) == 442
    assert sorted(p.name for p in shm_folder.iterdir()) == ["x.csv"]
    # Now the link points at an existing file: replacing it needs --force.
    res = lossctl(tmp_path, REG, "-l", "mse", "--per-sample", "out.csv", "-q")
    assert_error(res, "out.csv exists", "--force")
    res = lossctl(tmp_path, REG, "-l", "mse", "--per-sample", "out.csv", "-q", "--force")
    assert res.returncode == 0, res.stderr
    assert "mse" in pd.read_csv(shm_folder / "x.csv").columns
    assert sorted(p.name for p in shm_folder.iterdir()) == ["x.csv"]
    assert (tmp_path / "out.csv").is_symlink()


def test_symlink_to_the_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    shutil.copy(REG, src)
    (tmp_path / "out.csv").symlink_to(src)
    res = lossctl(tmp_path, src, "-l", "mae", "--per-sample", "out.csv", "-q", "--force")
    assert_error(res, "out.csv", "input")
    assert src.read_bytes() == REG.read_bytes()


def test_stdout_full(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        res = lossctl(tmp_path, REG, "-l", "mae", "--per-sample", "-", "-q", stdout=full,
                      stderr=subprocess.PIPE, capture_output=False)  # fmt: skip
    assert_error(res, "No space left on device")


# --- 6. Dask: Ctrl-C and bad scheduler addresses --------------------------------------------


@needs_dask
@pytest.mark.parametrize("address", ["not a url", "tcp://:x"])
def test_bad_scheduler_address(tmp_path: Path, address: str) -> None:
    res = lossctl(tmp_path, REG, "--engine", "dask", "--scheduler", address, "-q", timeout=60)
    assert_error(res, "scheduler")


@needs_dask
def test_dask_ctrl_c_is_quiet_and_clean(tmp_path: Path) -> None:
    src = regression_csv(tmp_path / "in.csv", 2_000_000)  # a run of several seconds
    (tmp_path / "w").mkdir()
    proc = subprocess.Popen(
        ["lossctl", "eval", str(src), "--engine", "dask", "--per-sample", "out", "-q"],
        cwd=tmp_path / "w", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    wait_for(lambda: any((tmp_path / "w").iterdir()), proc)
    time.sleep(1.0)  # the local cluster is starting or running
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert len([line for line in err.splitlines() if line.strip()]) <= 1, err
    assert list((tmp_path / "w").iterdir()) == []
