"""Command-line options that several commands declare: each is declared once, here.

Only typer at import time: ``lossctl --help`` reads this module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from lossctl import options as defaults
from lossctl.cli.common import TaskChoice

DATA = "Data"
OUTPUT = "Output"
GATES = "Gates"


class NanChoice(StrEnum):
    raise_ = "raise"
    omit = "omit"


class InputFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"
    jsonl = "jsonl"
    feather = "feather"
    excel = "excel"
    stata = "stata"
    sas = "sas"
    spss = "spss"
    pickle = "pickle"


LossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        metavar="SPEC",
        show_default=False,
        rich_help_panel=DATA,
        help="Loss NAME[:key=value...]; repeatable or comma list (default: by task).",
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        metavar="COL",
        show_default=False,
        rich_help_panel=DATA,
        help="True-value column (or K target-probability columns / a glob).",
    ),
]
PredOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--pred",
        "-p",
        metavar="COL",
        show_default=False,
        rich_help_panel=DATA,
        help="Prediction column; repeat or glob ('prob_*') for K class columns.",
    ),
]
WeightOpt = Annotated[
    str | None,
    typer.Option(
        "--weight",
        "-w",
        metavar="COL",
        show_default=False,
        rich_help_panel=DATA,
        help="Sample-weight column (finite, >= 0, not all 0).",
    ),
]
TaskOpt = Annotated[
    TaskChoice | None,
    typer.Option(
        "--task",
        show_default="auto",
        rich_help_panel=DATA,
        help="Task; auto decides from the losses, then the data.",
    ),
]
NanOpt = Annotated[
    NanChoice | None,
    typer.Option(
        "--nan",
        show_default="raise",
        rich_help_panel=DATA,
        help="Rows with NaN/inf/empty used values: raise an error, or omit them.",
    ),
]
PosLabelOpt = Annotated[
    str | None,
    typer.Option(
        "--pos-label",
        metavar="LABEL",
        show_default=False,
        rich_help_panel=DATA,
        help="Binary target with two text labels: the positive one.",
    ),
]
InputFormatOpt = Annotated[
    InputFormat | None,
    typer.Option(
        "--input-format",
        show_default=False,
        rich_help_panel=DATA,
        help="Override the format from the suffix (stdin and pipes are sniffed: Parquet, "
        "Feather and compressed bytes are recognised; plain text is CSV). excel (.xlsx, "
        ".xls), stata (.dta), sas (.sas7bdat, .xpt), spss (.sav) and pickle are read whole "
        "into memory, from a file only; pickle runs code when loaded, so only this option "
        "reads one (never a .pkl suffix): pass it only for a file you trust.",
    ),
]
SheetOpt = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        metavar="NAME",
        show_default="the first sheet",
        rich_help_panel=DATA,
        help="The sheet of an Excel workbook to read: a name, or a 0-based index when no "
        "sheet has that name. The sheet is read whole into memory.",
    ),
]
ChunkOpt = Annotated[
    int | None,
    typer.Option(
        "--chunk-size",
        metavar="N",
        show_default="1000000",
        rich_help_panel=DATA,
        help="Rows per chunk when streaming.",
    ),
]
PrecisionOpt = Annotated[
    int | None,
    typer.Option(
        "--precision",
        metavar="N",
        show_default="6",
        rich_help_panel=OUTPUT,
        help="Significant digits in table/markdown/csv (JSON: full precision).",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        rich_help_panel=OUTPUT,
        help="Print nothing on success; errors and gate failures still go to stderr.",
    ),
]
EmbedOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--embed",
        metavar="IMAGE",
        show_default=False,
        rich_help_panel=OUTPUT,
        help="With --format markdown: show this image (from lossctl plot --out) "
        "below the table; repeatable.",
    ),
]
MaxOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--max",
        metavar="KEY=VALUE",
        show_default=False,
        rich_help_panel=GATES,
        help="Fail (exit 1) if the overall cost of loss KEY exceeds VALUE (with --by, groups "
        "are gated by --max-group); repeatable.",
    ),
]
MaxGroupOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--max-group",
        metavar="KEY=VALUE",
        show_default=False,
        rich_help_panel=GATES,
        help="Fail (exit 1) if the cost of loss KEY in any --by group exceeds VALUE; the "
        "failure lists those groups; repeatable.",
    ),
]
ToleranceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tolerance",
        metavar="[KEY=]N%|N",
        show_default="0",
        rich_help_panel=GATES,
        help="Increase over the baseline allowed: N% of its cost, or N cost units; "
        "KEY=N% or KEY=N for one loss; repeatable.",
    ),
]
AllowMissingOpt = Annotated[
    bool,
    typer.Option(
        "--allow-missing",
        rich_help_panel=GATES,
        help="A loss key of the baseline missing from this run does not fail.",
    ),
]


STATS = "Statistics"
MODELS = "Models"


class TestChoice(StrEnum):
    bootstrap = "bootstrap"
    permutation = "permutation"
    ttest = "ttest"
    wilcoxon = "wilcoxon"
    dm = "dm"
    mcnemar = "mcnemar"
    none = "none"


# Options shared with `lossctl plot compare`.
ModelPredOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--pred",
        "-p",
        metavar="COL",
        show_default=False,
        rich_help_panel=MODELS,
        help="One file: one --pred per model (a glob for multiclass). Several "
        "files: the prediction column(s) of each.",
    ),
]

NamesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--names",
        metavar="A,B,...",
        show_default=False,
        rich_help_panel=MODELS,
        help="Model names (default: file stems, or the --pred columns).",
    ),
]

PairIdOpt = Annotated[
    str | None,
    typer.Option(
        "--id",
        metavar="COL",
        show_default=False,
        rich_help_panel=MODELS,
        help="Pair rows by this id column instead of by position.",
    ),
]

ResamplesOpt = Annotated[
    int | None,
    typer.Option(
        "--resamples",
        metavar="B",
        show_default=str(defaults.RESAMPLES),
        rich_help_panel=STATS,
        help="Bootstrap / permutation resamples.",
    ),
]

SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed",
        show_default=str(defaults.SEED),
        rich_help_panel=STATS,
        help="Random seed: the same seed gives the same output.",
    ),
]

ConfidenceOpt = Annotated[
    float | None,
    typer.Option(
        "--confidence",
        show_default=str(defaults.CONFIDENCE),
        rich_help_panel=STATS,
        help="Interval level; significance is at 1 - confidence.",
    ),
]
