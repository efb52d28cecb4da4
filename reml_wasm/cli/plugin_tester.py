"""`reml-plugin-tester`: diagnose Nyash BID-1 plugins against their nyash.toml.

    reml-plugin-tester [-c nyash.toml] check          load each library, list boxes and methods
    reml-plugin-tester [-c nyash.toml] lifecycle BOX  birth -> zero-argument methods -> fini
    reml-plugin-tester [-c nyash.toml] io             FileBox: write a file, read it back
    reml-plugin-tester [-c nyash.toml] typecheck      config method names vs the plugin's answers
    reml-plugin-tester [-c nyash.toml] validate-all   check + lifecycle + typecheck, every library

`--json` prints one JSON document instead: {"command", "ok", "failures", "lines": [{"ok", "text"}]}.

Exit status 0 when everything passed, 1 on any failure (a diagnostic, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import add_standard_options, guarded


DEFAULT_TIMEOUT = 60.0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default=argparse.SUPPRESS, help="nyash.toml (default ./nyash.toml)")
    common.add_argument("--timeout", default=argparse.SUPPRESS, metavar="SECONDS",
                        help=f"seconds a plugin call may take before the library is given up as stuck "
                             f"(default {DEFAULT_TIMEOUT:g}; `none` for no limit)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document (command, ok, failures, lines) instead of text")
    parser = argparse.ArgumentParser(prog="reml-plugin-tester", parents=[common],
                                     description="Check Nyash BID-1 plugins against their nyash.toml.")
    add_standard_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("check", parents=[common], help="load each library and list boxes and methods")
    lc = sub.add_parser("lifecycle", parents=[common], help="birth -> zero-argument methods -> fini")
    lc.add_argument("box", help="the Box name")
    sub.add_parser("io", parents=[common], help="FileBox: open w, write, close, open r, read back, close")
    sub.add_parser("typecheck", parents=[common], help="config method names vs what the plugin answers")
    sub.add_parser("validate-all", parents=[common], help="check, lifecycle and typecheck every library")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config_path = getattr(args, "config", "nyash.toml")
    as_json = getattr(args, "json", False)

    def body() -> int:
        from ..connectors.plugin.host import MAX_TIMEOUT
        from .limits import parse_seconds
        from .plugin_checks import (Report, cmd_check, cmd_io, cmd_lifecycle, cmd_typecheck, cmd_validate_all,
                                    load_config)
        text = getattr(args, "timeout", None)
        timeout: float | None = DEFAULT_TIMEOUT
        if text is not None:
            timeout = None if text.strip().lower() == "none" else parse_seconds(text, "--timeout", MAX_TIMEOUT)
        cfg = load_config(config_path)
        rep = Report(as_json, timeout)
        if args.command == "check":
            cmd_check(cfg, rep)
        elif args.command == "lifecycle":
            cmd_lifecycle(cfg, rep, args.box)
        elif args.command == "io":
            cmd_io(cfg, rep)
        elif args.command == "typecheck":
            cmd_typecheck(cfg, rep)
        else:
            cmd_validate_all(cfg, rep)
        if as_json:
            print(json.dumps(rep.document(args.command), ensure_ascii=False))
        if rep.failures:
            print(f"{args.command}: {rep.failures} failure(s)", file=sys.stderr)
            return 1
        return 0

    return guarded(body, as_json)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
