"""Command-line entry points: `reml-wasm`, `reml-bindgen`, `reml-plugin-tester`.

Each `reml-wasm` subcommand lives in its own module under `reml_wasm.cli` with
`add_arguments(parser)` and `run(args) -> int`; this module only dispatches, and turns
every error into a coded diagnostic (no Python traceback reaches a user).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Callable, Sequence

from .. import __version__
from ..audit import Diagnostic, DiagnosticError

# name -> (module under reml_wasm.cli, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "wit": ("wit", "parse and resolve WIT; print canonical WIT or wasm-tools-compatible JSON"),
    "reml": ("reml", "emit Reml bindings and a type manifest for a WIT world"),
    "call": ("call", "call a component export with arguments in WAVE"),
    "run": ("run", "run a wasi:cli/run command component, as `wasmtime run` does"),
    "inspect": ("inspect", "print the world of a component as WIT"),
    "call-native": ("call_native", "call a native library function bound from its C header"),
    "gen": ("gen", "generate code: C plugin skeletons, typed Python bindings"),
    "build": ("build", "run the reml.json ffi build (bindgen, cache, link check)"),
    "poc": ("poc", "run the WIT PoC end to end and write its run log"),
    "scenarios": ("scenarios", "run the regression scenarios of docs/scenarios.csv against their goldens"),
    "bench": ("bench", "benchmarks: timing tables measured side by side (`reml-wasm bench --help` lists them)"),
}

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2


def _print_diagnostics(diags: Sequence[Diagnostic], as_json: bool) -> None:
    for d in diags:
        if as_json:
            print(json.dumps(d.to_json(), ensure_ascii=False), file=sys.stderr)
        else:
            print(d.render(), file=sys.stderr)


def _environment_diagnostic(exc: BaseException) -> Diagnostic:
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return Diagnostic("ffi.io.failed", f"{where}{exc.strerror or exc}")
    if isinstance(exc, UnicodeDecodeError):
        return Diagnostic("ffi.io.not_utf8", f"input is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} "
                          f"at offset {exc.start})")
    return Diagnostic("ffi.input.too_deep", "the input nests too deep to be processed")


def escape_undecodable_output() -> None:
    """Print names the system gave as bytes that are not UTF-8 (file names, arguments:
    lone surrogates in Python) as `\\udcXX` escapes instead of failing on them; in JSON
    output that escape reads back as the same name."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot change its error handler
                pass


def guarded(run: Callable[[], int], as_json: bool = False) -> int:
    """Run a command body; diagnostics exit 1, anything unexpected exits 2 with a
    one-line internal-error diagnostic instead of a traceback."""
    try:
        return run()
    except DiagnosticError as exc:
        _print_diagnostics(exc.diagnostics, as_json)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        # what the environment or the input did (a file that cannot be read or written,
        # bytes that are not UTF-8, input nested past the stack): the user's to fix
        _print_diagnostics([_environment_diagnostic(exc)], as_json)
        return EXIT_USER_ERROR
    except Exception as exc:  # noqa: BLE001 - the last line of defence for CLI users
        _print_diagnostics([Diagnostic("internal.error", f"{type(exc).__name__}: {exc}")], as_json)
        return EXIT_INTERNAL_ERROR


class _PrintCompletion(argparse.Action):
    """`--print-completion SHELL`: the shell completion script of this command (shtab)."""

    def __init__(self, option_strings: Sequence[str], dest: str, full_parser: Callable[[], argparse.ArgumentParser],
                 **kwargs: object) -> None:
        self.full_parser = full_parser
        super().__init__(option_strings, dest, choices=("bash", "zsh", "tcsh"), metavar="SHELL",
                         help="print a shell completion script (bash, zsh or tcsh) and exit", **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        import shtab
        try:
            print(shtab.complete(self.full_parser(), shell=str(values)))
        except BrokenPipeError:
            pass
        parser.exit(0)


def add_standard_options(parser: argparse.ArgumentParser,
                         full_parser: Callable[[], argparse.ArgumentParser] | None = None) -> None:
    """`--version` and `--print-completion SHELL`, which every console script has.

    `full_parser` builds the parser with every subcommand's options (completion needs them
    all); by default it is `parser` itself."""
    parser.add_argument("--version", action="version", version=f"{parser.prog} {__version__}")
    parser.add_argument("--print-completion", action=_PrintCompletion, full_parser=full_parser or (lambda: parser))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `reml-wasm` parser.  With `only`, just that subcommand's module is imported and
    its options added (the others are listed by name and help), so a command starts
    without importing what it does not use; without it, every subcommand is complete
    (for shell completion)."""
    parser = argparse.ArgumentParser(
        prog="reml-wasm",
        description="One interface definition, run as a WebAssembly component or a native library.")
    add_standard_options(parser, build_parser)
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress display (it is also off when stderr is not a terminal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_module=module)
        if only is not None and name != only:
            continue
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
            sp.set_defaults(_unavailable=True)
            continue
        mod.add_arguments(sp)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`reml-wasm`: dispatch to the subcommand's module; exit status 0, 1 (a diagnostic) or 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    escape_undecodable_output()
    chosen = next((a for a in argv if a in SUBCOMMANDS), None)
    parser = build_parser(only=chosen or "")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    if args.quiet:
        from .. import progress
        progress.set_quiet(True)
    if getattr(args, "_unavailable", False):
        print(f"reml-wasm {args.command}: not yet available", file=sys.stderr)
        return EXIT_USER_ERROR
    mod = importlib.import_module(f"{__name__}.{args._module}")
    return guarded(lambda: mod.run(args), getattr(args, "json", False) is True)


def _delegate(module: str, prog: str, argv: Sequence[str] | None) -> int:
    escape_undecodable_output()
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        print(f"{prog}: not yet available", file=sys.stderr)
        return EXIT_USER_ERROR
    status: int = mod.main(argv)
    return status


def bindgen_main(argv: Sequence[str] | None = None) -> int:
    """`reml-bindgen` (reml_wasm.cli.bindgen_tool)."""
    return _delegate("reml_wasm.cli.bindgen_tool", "reml-bindgen", argv)


def plugin_tester_main(argv: Sequence[str] | None = None) -> int:
    """`reml-plugin-tester` (reml_wasm.cli.plugin_tester)."""
    return _delegate("reml_wasm.cli.plugin_tester", "reml-plugin-tester", argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
