"""The options of each command and their defaults, in one place: the library
functions, the CLI (values and ``--help``) and the config all read them here.

No lossctl or third-party imports at run time: the CLI reads this module while
building ``--help``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lossctl.inputs.frames import Frame
    from lossctl.losses import Registry

#: --test
TEST = "bootstrap"
#: --resamples (bootstrap and permutation)
RESAMPLES = 2000
#: --seed
SEED = 0
#: --confidence (significance is at 1 - confidence)
CONFIDENCE = 0.95
#: --horizon (Diebold-Mariano)
HORIZON = 1


#: Fields that a config file cannot set: the inputs and outputs of one run (a sheet
#: belongs to one workbook), its switches, and the objects only the Python API passes.
NOT_IN_CONFIG = frozenset({
    "path", "files", "names", "per_sample", "force", "fail_if_worse", "workers",
    "registry", "progress", "train", "sheet",
})  # fmt: skip
#: Option fields whose config key is another name (the long option's).
CONFIG_NAMES = {"losses": "loss"}
#: Config keys whose type is not their field's: ``tolerance`` is eval's list of N% / N /
#: KEY=... and compare's one number (a number, a string or a list of them in a config).
CONFIG_TYPES = {"tolerance": "tolerances"}


class Progress:
    """Progress of reading: ``start`` once with the (estimated) rows, then ``advance``
    (compare's bootstrap: the total draws, then the draws done).

    Called from reading (or bootstrap) threads; implementations must be thread-safe.
    """

    def start(self, total_rows: int | None) -> None:  # pragma: no cover - interface
        pass

    def advance(self, rows: int) -> None:  # pragma: no cover - interface
        pass


@dataclass(kw_only=True)
class ReadingOptions:
    """How every data command reads its input: columns, task, missing values, format."""

    target: Sequence[str] = ()
    pred: Sequence[str] = ()
    weight: str | None = None
    id: str | None = None
    task: str = "auto"
    nan: str = "raise"
    pos_label: str | None = None
    #: Class names of the K class columns in label order (``--classes``), when the
    #: labels are indices 0..K-1.
    classes: tuple[str, ...] = ()
    input_format: str | None = None
    #: CSV/TSV field separator (``--delimiter``); None: ',' for CSV, tab for TSV.
    delimiter: str | None = None
    #: The sheet of an Excel workbook (``--sheet``): a name, or a 0-based index when no
    #: sheet has that name; None: the first sheet.
    sheet: str | None = None
    chunk_size: int | None = None
    #: What the prediction columns hold (``--kind``): auto, value, probability, logit,
    #: quantiles, gaussian or ensemble.
    kind: str = "auto"
    #: Quantile levels of the prediction columns in their order (``--levels``).
    levels: tuple[float, ...] = ()
    #: The standard deviation or variance column of a Gaussian prediction.
    std: str | None = None
    var: str | None = None
    #: The series column of a forecast panel (``--series``) and its time column.
    series: str | None = None
    time: str | None = None
    #: The in-sample history the scaled losses scale by (``--train``), and the season m.
    train: str | Frame | None = None
    season: int = 1


@dataclass
class EvalOptions(ReadingOptions):
    """Everything ``lossctl eval`` takes, with the contract's defaults."""

    #: A file, ``-``, a dataset, or in-memory data (the Python API).
    path: str | Frame
    losses: Sequence[str] = ()
    by: str | None = None
    max: Sequence[str] = ()
    #: --max-group KEY=VALUE: fail if any --by group's cost exceeds VALUE.
    max_group: Sequence[str] = ()
    #: --baseline FILE (a saved ``eval --json``), --tolerance (N%, N, KEY=N%, KEY=N) and
    #: --allow-missing (a baseline key missing from this run does not fail).
    baseline: str | None = None
    tolerance: Sequence[str] = ()
    allow_missing: bool = False
    per_sample: str | None = None
    #: Replace an existing --per-sample file (or a per-sample folder lossctl wrote).
    force: bool = False
    registry: Registry | None = None
    #: Threads for parallel reading (None: every CPU; 1: one sequential pass).
    workers: int | None = None
    #: "local" (threads) or "dask"; ``scheduler`` is the Dask scheduler address.
    engine: str = "local"
    scheduler: str | None = None
    progress: Progress | None = field(default=None, repr=False)


@dataclass
class CompareOptions(ReadingOptions):
    """Everything ``lossctl compare`` takes, with the contract's defaults."""

    files: Sequence[str | Frame]
    names: Sequence[str] = ()
    baseline: str | None = None
    losses: Sequence[str] = ()
    test: str = TEST
    resamples: int = RESAMPLES
    seed: int = SEED
    confidence: float = CONFIDENCE
    horizon: int = HORIZON
    fail_if_worse: bool = False
    tolerance: float = 0.0
    max: Sequence[str] = ()
    registry: Registry | None = None
    engine: str = "local"
    scheduler: str | None = None
    #: Hears of the bootstrap's draws (``--test bootstrap``, local engine).
    progress: Progress | None = field(default=None, repr=False)
