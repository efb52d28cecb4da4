"""`reml-bindgen`: C headers -> Reml bindings + bindings.manifest.json.

Log events go to stdout as JSON Lines; diagnostics of a failed run also go to stderr
in human form.  Exit 0 on success (even when declarations were skipped), 1 on failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from ..audit import DiagnosticError
from ..bindgen import config as bconfig
from .. import progress
from . import add_standard_options, guarded


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reml-bindgen",
                                description="Generate Reml bindings from C headers.")
    add_standard_options(p)
    p.add_argument("--config", help=f"config file (default {bconfig.DEFAULT_CONFIG} if present)")
    p.add_argument("--header", action="append", dest="headers", metavar="HEADER",
                   help="a header to bind (appended to the config's headers)")
    p.add_argument("-I", "--include-path", action="append", dest="include_paths", metavar="DIR")
    p.add_argument("-D", "--define", action="append", dest="defines", metavar="NAME[=VALUE]")
    p.add_argument("--output", help="the .reml file to write")
    p.add_argument("--manifest", help="the bindings.manifest.json to write")
    p.add_argument("--exclude", action="append", metavar="REGEX",
                   help="skip functions whose name matches")
    for way, what in (("allowlist", "bind only"), ("blocklist", "never bind")):
        for kind, items in (("function", "functions"), ("type", "types (tag or typedef name)"),
                            ("var", "variables and constants"), ("file", "declarations of files (real path)")):
            p.add_argument(f"--{way}-{kind}", action="append", dest=f"{way}_{kind}", metavar="REGEX",
                           help=f"{what} {items} whose whole name matches")
    p.add_argument("--compile-commands", dest="compile_commands", metavar="PATH")
    p.add_argument("--verify-layout", action="store_true",
                   help="check every emitted struct's layout against the system C compiler")
    return p


def _emit(event: dict[str, Any]) -> None:
    """One JSON line; empty optional keys are left out (every key of finish is kept)."""
    if event.get("event") != "bindgen.finish":
        event = {k: v for k, v in event.items() if v is not None}
    print(json.dumps(event, ensure_ascii=False), flush=True)


def _run(args: argparse.Namespace) -> int:
    cli = {k: getattr(args, k) for k in ("headers", "include_paths", "defines", "exclude",
                                         "output", "manifest", "compile_commands",
                                         *bconfig.SELECTION_KEYS)}
    generated = manifest = None
    try:
        cfg = bconfig.load(args.config, cli)
        generated, manifest = str(cfg.output.path), str(cfg.manifest.path)  # type: ignore[union-attr]
        from ..bindgen.generate import generate  # heavy (pycparser): only when it runs
        with progress.activity(f"reml-bindgen: {len(cfg.headers)} header(s)"
                               + (", checking layouts" if args.verify_layout else "")):
            result = generate(cfg, verify_layout=args.verify_layout, log=_emit)
    except DiagnosticError as exc:
        _emit({"event": "bindgen.finish", "status": "failed", "generated": generated,
               "manifest": manifest, "diagnostics": [d.to_json() for d in exc.diagnostics]})
        raise
    _emit({"event": "bindgen.finish", "status": "success", "generated": generated,
           "manifest": manifest, "diagnostics": [d.to_json() for d in result.diagnostics]})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0)
    return guarded(lambda: _run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
