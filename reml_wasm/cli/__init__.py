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
    "bench": ("bench", "benchmarks: wit, cabi, component, native, plugin, bindgen"),
}

EXIT_USER_ERROR = 1
EXIT_INTERNAL_ERROR = 2


def _print_diagnostics(diags: Sequence[Diagnostic], as_json: bool) -> None:
    for d in diags:
        if as_json:
            print(json.dumps(d.to_json(), ensure_ascii=False), file=sys.stderr)
        else:
            print(d.render(), file=sys.stderr)


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
    except Exception as exc:  # noqa: BLE001 - the last line of defence for CLI users
        _print_diagnostics([Diagnostic("internal.error", f"{type(exc).__name__}: {exc}")], as_json)
        return EXIT_INTERNAL_ERROR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reml-wasm",
        description="One interface definition, run as a WebAssembly component or a native library.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_module=module)
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    if getattr(args, "_unavailable", False):
        print(f"reml-wasm {args.command}: not yet available", file=sys.stderr)
        return EXIT_USER_ERROR
    mod = importlib.import_module(f"{__name__}.{args._module}")
    return guarded(lambda: mod.run(args), getattr(args, "json", False) is True)


def _delegate(module: str, prog: str, argv: Sequence[str] | None) -> int:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        print(f"{prog}: not yet available", file=sys.stderr)
        return EXIT_USER_ERROR
    return mod.main(argv)


def bindgen_main(argv: Sequence[str] | None = None) -> int:
    """`reml-bindgen` (reml_wasm.cli.bindgen_tool)."""
    return _delegate("reml_wasm.cli.bindgen_tool", "reml-bindgen", argv)


def plugin_tester_main(argv: Sequence[str] | None = None) -> int:
    """`reml-plugin-tester` (reml_wasm.cli.plugin_tester)."""
    return _delegate("reml_wasm.cli.plugin_tester", "reml-plugin-tester", argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
