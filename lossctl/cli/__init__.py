"""The command line: a thin layer that parses options, calls the core and prints.

This module is the single error boundary: a :class:`~lossctl.errors.LossctlError`
becomes ``Error: ...`` on stderr and exit code 2; any other exception is a bug,
reported in one line with exit code 3 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.22 vendors click as typer._click; older releases use click itself
    from typer._click import core as click_core
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import core as click_core  # type: ignore[no-redef]
    from click import exceptions as click_exc  # type: ignore[no-redef]

from lossctl import __version__
from lossctl.cli import state
from lossctl.errors import ExitCode, Interrupted, LossctlError

ISSUES_URL = "https://github.com/lossctl/lossctl/issues"


class _Unwound(Exception):
    """A KeyboardInterrupt (or :class:`Interrupted`) carried through typer's handler."""

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        self.interrupt = interrupt
        super().__init__()


def _refuse_repeated_options(group: Any, ctx: Any, args: list[str]) -> None:
    """An option that takes one value, given twice (``--by a --by b``), is a usage error:
    click would keep the last one silently."""
    command: Any = group
    path = ["lossctl"]
    while args and hasattr(command, "get_command"):  # the (sub)command the line runs
        sub = command.get_command(ctx, args[0])
        if sub is None:
            return
        path.append(args[0])
        command, args = sub, args[1:]
    seen: dict[str, list[str]] = {}
    single = {}
    for param in getattr(command, "params", []):
        if isinstance(param, click_core.Option) and not (param.multiple or param.is_flag
                                                         or param.count):  # fmt: skip
            for name in param.opts:
                single[name] = param.opts[0]
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            break
        name, eq, value = token.partition("=")
        if name in single:
            if not eq:
                value = args[i + 1] if i + 1 < len(args) else ""
                i += 1
            seen.setdefault(single[name], []).append(value)
        i += 1
    for name, values in seen.items():
        if len(values) > 1:
            raise click_exc.UsageError(
                f"{name} takes one value, given {len(values)} times "
                f"({', '.join(repr(v) for v in values)}); pass it once "
                f"(see '{' '.join(path)} --help')."
            )


def _light_help_renderer() -> None:
    """Import typer's help renderer without rich.markdown and rich.traceback.

    typer.rich_utils imports both at its top (markdown-it and pygments: most of the
    time of `lossctl --help`) and uses them only for markup_mode="markdown" and for
    pretty tracebacks, which lossctl turns off. Placeholders stand in while it is
    imported and are removed at once, so a later `import rich.markdown` is the real one.
    """
    import types

    if "typer.rich_utils" in sys.modules:
        return
    placed = []
    for name, attr in (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback")):
        if name not in sys.modules:
            module = types.ModuleType(name)
            setattr(module, attr, None)
            sys.modules[name] = module
            placed.append(name)
    try:
        import typer.rich_utils  # noqa: F401
    finally:
        for name in placed:
            del sys.modules[name]


def _shows_help(argv: Sequence[str]) -> bool:
    """True when the line asks for help (--help, -h, or a group without its command)."""
    words = list(itertools.takewhile(lambda a: a != "--", argv))
    return not words or words == ["plot"] or "--help" in words or "-h" in words


class _LazyCommands(dict[str, Any]):
    """The root's subcommands by name, each built by :func:`_build_command` when first
    looked up (click and typer read ``commands`` through get, items and [])."""

    def __getitem__(self, name: str) -> Any:
        command = super().__getitem__(name)
        if command is None:
            command = _build_command(name)
            super().__setitem__(name, command)
        return command

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if name not in self:
            return default
        return self[name]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(name, self[name]) for name in list(self.keys())]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[name] for name in list(self.keys())]


class LossctlGroup(TyperGroup):
    """Typer group whose ``main`` is the one place errors become exit codes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.name == "lossctl":  # the root: its commands are built when asked for
            lazy = _LazyCommands(dict.fromkeys(COMMANDS))
            for name, command in self.commands.items():
                dict.__setitem__(lazy, name, command)
            self.commands = lazy

    def invoke(self, ctx: Any) -> Any:
        # click >= 8.2 keeps the subcommand's tokens in _protected_args (protected_args
        # is deprecated there); older releases only have protected_args.
        protected = getattr(ctx, "_protected_args", None)
        if protected is None:
            protected = ctx.protected_args
        _refuse_repeated_options(self, ctx, [*protected, *ctx.args])
        # typer turns KeyboardInterrupt into a bare exit code 130, which would lose the
        # signal (SIGTERM must exit 143) and the message: carry it past typer instead.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Unwound(exc) from None

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        # Global flags are accepted anywhere on the line: `lossctl eval f.csv --debug`.
        state.debug = "--debug" in argv or bool(os.environ.get("LOSSCTL_DEBUG"))
        state.no_color = "--no-color" in argv or "NO_COLOR" in os.environ
        argv = [a for a in argv if a not in ("--debug", "--no-color")]
        if _shows_help(argv) and app.rich_markup_mode != "markdown":
            _light_help_renderer()
        code: int
        previous = _catch_signals()
        state.guard_streams()
        # numpy's floating-point warnings name lossctl's source lines, not the user's
        # data; a result they would flag (an overflow) is checked and reported in
        # lossctl's own words instead.
        warnings.filterwarnings(
            "ignore", r"(overflow|invalid value|divide by zero|underflow) encountered",
            RuntimeWarning,
        )  # fmt: skip
        try:
            rv = super().main(
                args=argv,
                prog_name=prog_name or "lossctl",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            code = rv if isinstance(rv, int) else 0
            state.flush_stdout()  # a full disk behind stdout is an error, not a lost tail
        except click_exc.NoArgsIsHelpError as exc:
            # The error was built with ctx.get_help(), which rich help prints as it is
            # called (returning ""); plain help is the message. Never ask for it twice.
            text = exc.format_message()
            if text:
                sys.stdout.write(text + "\n")
            code = ExitCode.USAGE_OR_INPUT
        except click_exc.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            state.error(f"{exc.format_message()}{hint}")
            code = ExitCode.USAGE_OR_INPUT
        except typer.Abort:
            state.error("aborted.")
            code = ExitCode.INTERRUPTED
        except click_exc.ClickException as exc:
            state.error(exc.format_message())
            code = exc.exit_code
        except LossctlError as exc:
            if state.debug:
                import traceback

                traceback.print_exc()
            state.error(str(exc))
            code = int(exc.exit_code)
        except BrokenPipeError:
            # `lossctl ... | head`: the reader left; stop quietly.
            state.discard_stdout()
            code = ExitCode.OK
        except (_Unwound, KeyboardInterrupt) as exc:
            cause = exc.interrupt if isinstance(exc, _Unwound) else exc
            if isinstance(cause, Interrupted):
                state.error(f"interrupted by {signal.Signals(cause.signum).name}.")
                code = cause.exit_code
            else:
                state.error("interrupted.")
                code = ExitCode.INTERRUPTED
        except Exception as exc:
            if state.debug:
                import traceback

                traceback.print_exc()
            state.error(
                f"internal error ({type(exc).__name__}: {exc}). This is a bug in lossctl "
                f"{__version__}; please report it at {ISSUES_URL} with the command line "
                "and, if you can, --debug output."
            )
            code = ExitCode.INTERNAL
        finally:
            for sig, handler in previous.items():
                # A signal from here on (a slow interpreter exit) ends the process at once.
                signal.signal(sig, _exit_now if standalone_mode else handler)
        if code != ExitCode.OK and not state.flush_stdout(quiet=True):
            state.discard_stdout()  # else Python's exit flush fails again, exit 120
        if standalone_mode:
            sys.exit(code)
        return code


def _exit(code: int) -> None:
    """End the process with ``code`` once every output is flushed, skipping the
    interpreter's teardown: Arrow's reader threads (pyarrow's pools, a readahead thread
    still parked on a Python stream) can abort a normal exit ("terminate called
    without an active exception", exit 134) or hang in its thread-pool shutdown. The
    command's own cleanup (temporary files, Dask clusters) has already run in its
    ``finally`` blocks; what is left is only memory."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    if "pyarrow" not in sys.modules:
        sys.exit(code)  # nothing native started: the normal exit is safe (and runs atexit)
    logging = sys.modules.get("logging")
    if logging is not None:  # loaded (by Dask, say): flush its handlers as exit would
        logging.shutdown()
    os._exit(code)


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def _exit_now(signum: int, frame: object) -> None:
    """After the command finished: outputs are complete, there is nothing to unwind."""
    os._exit(128 + signum)


def _catch_signals() -> dict[signal.Signals, Any]:
    """SIGINT, SIGTERM and SIGHUP unwind the main thread as :class:`Interrupted`, so
    every ``finally`` removes its temporary files before the process exits 128 + N.

    Returns the handlers replaced, restored when the command ends.
    """
    import threading

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # signals belong to whoever owns the process
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        old = signal.getsignal(sig)
        if old in (signal.SIG_IGN, None):
            continue  # `nohup lossctl ...`: an ignored signal stays ignored
        previous[sig] = old
        signal.signal(sig, _raise_interrupted)
    return previous


app = typer.Typer(
    cls=LossctlGroup,
    name="lossctl",
    help=(
        "Evaluate, compare and explain loss functions on prediction files "
        "(CSV, TSV, Parquet, JSON Lines, Feather)."
    ),
    epilog="Exit codes: 0 success, 1 a gate failed, 2 usage or input error, 3 internal error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click suggests a close command name itself: typer's would say it a second time.
    suggest_commands=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lossctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of errors (any position).")
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (also NO_COLOR=1; any position).")
    ] = False,
) -> None:
    """lossctl: how good is each model, under the loss that fits the problem."""


#: Each command's module and object, in the order --help lists them. A command is
#: built (its module imported, its signature read by typer) when it is first looked up,
#: so `lossctl losses` does not pay for the options of eval, compare and plot.
COMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("evaluate", "eval_command"),
    "compare": ("compare", "compare_command"),
    "diff": ("diff", "diff_command"),
    "losses": ("catalog", "losses"),
    "explain": ("catalog", "explain"),
    "recommend": ("recommend", "recommend_command"),
    "plot": ("plot", "plot_app"),
}


def _build_command(name: str) -> Any:
    """The click command ``name``, made by typer as ``app.command(name)`` would make it."""
    import importlib

    import typer.main
    from typer.models import CommandInfo, TyperInfo

    module, attr = COMMANDS[name]
    obj = getattr(importlib.import_module(f"lossctl.cli.{module}"), attr)
    if isinstance(obj, typer.Typer):  # a group of subcommands: app.add_typer(obj, name=name)
        return typer.main.get_group_from_info(
            TyperInfo(obj, name=name),
            pretty_exceptions_short=app.pretty_exceptions_short,
            suggest_commands=app.suggest_commands,
            rich_markup_mode=app.rich_markup_mode,
        )
    return typer.main.get_command_from_info(
        CommandInfo(name=name, callback=obj),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


def main() -> None:
    """Console-script entry point: the command, then a teardown-free exit (see _exit)."""
    try:
        app()
    except SystemExit as exc:
        code = exc.code
        _exit(code if isinstance(code, int) else (0 if code is None else 1))
