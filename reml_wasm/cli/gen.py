"""`reml-wasm gen …`: code generators.

    reml-wasm gen c-plugin (BID.yaml | WIT) -o DIR   a Nyash BID-1 C plugin skeleton
    reml-wasm gen python WIT --world W -o DIR        typed Python bindings (a package)
    reml-wasm gen python BID.yaml -o DIR             a typed Python client module (cli/gen_bid.py)

Each generator is one sub-subcommand registered in GENERATORS (name -> (add_arguments, run)).
Every generator takes `--json`: the files written, as one JSON document (cli/written.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from ..audit import error, write_atomic_group
from .written import add_json_argument, report_written


def _c_plugin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="a BID YAML file (.yaml/.yml) or WIT (.wit file or directory)")
    parser.add_argument("-o", "--output", required=True, help="directory to write the skeleton into")
    parser.add_argument("--name", help="library stem (default: the input file's stem)")
    parser.add_argument("--world", help="WIT input: make Boxes of this world's exports "
                        "(default: every interface of the main package)")


def _c_plugin_run(args: argparse.Namespace) -> int:
    from ..codegen import c_plugin

    source = Path(args.input)
    if source.suffix in (".yaml", ".yml"):
        from ..bid import yaml_loader

        doc = yaml_loader.load(source)
        specs = c_plugin.specs_from_bid(doc)
    elif source.suffix == ".wit" or source.is_dir():
        from .. import wit
        from ..codegen.plugin_from_wit import specs_from_wit

        resolved = wit.load(source)
        world = None if args.world is None else resolved.world(args.world)
        specs = specs_from_wit(resolved.main, world)
    else:
        raise error("ffi.gen.input", f"{source}: expected a BID YAML (.yaml/.yml) or WIT (.wit) input")
    if args.name is not None and not (args.name.isascii() and args.name.isidentifier()):  # files, C symbols
        raise error("ffi.gen.input", f"--name {args.name!r} is not a name (ASCII letters, digits and _, "
                    "not starting with a digit)")
    stem = args.name or source.stem.replace(".", "_").replace("-", "_")
    out = Path(args.output)
    files = c_plugin.generate(specs, stem=stem, source=str(source))
    try:
        write_atomic_group({out / name: text for name, text in files.items()})  # all files or none
        (out / "build.sh").chmod(0o755)
    except OSError as exc:
        raise error("ffi.gen.write_failed", f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    report_written("gen c-plugin", [out / name for name in files], args.json)
    return 0


def _python_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="WIT (.wit file or directory with deps/), a component .wasm, "
                                      "or a BID YAML document (.yaml/.yml)")
    parser.add_argument("--world", help="the world (default: the main package's only world)")
    parser.add_argument("-o", "--output", required=True, help="directory to write the package or module into")
    parser.add_argument("--package", "--name", dest="package",
                        help="package name for WIT (default: <world>_bindings); module name for BID YAML "
                             "(default: from the file name)")


def _python_run(args: argparse.Namespace) -> int:
    from .gen_bid import run_python

    args.name = args.package
    rc = run_python(args)     # BID YAML inputs; anything else is WIT or a component
    if rc is not None:
        return rc
    from ..codegen.python import generate_package
    from ..router import load_world
    from ..routing import RoutingConfig, RouteConfig

    source = Path(args.input)
    if source.suffix == ".wasm":
        config = RoutingConfig(RouteConfig(component=str(source)))
    elif not (source.suffix == ".wit" or source.is_dir()):
        raise error("ffi.gen.input", f"{source}: expected WIT (a .wit file or a directory), a component (.wasm) or BID YAML (.yaml)")
    else:
        config = RoutingConfig(wit=str(source), world=args.world)
    world = load_world(config)[0]
    package = args.package if args.package is not None else f"{world.name.replace('-', '_')}_bindings"
    if not package.isidentifier():
        raise error("ffi.gen.input", f"{package!r} is not a Python package name (use --package)")
    root = generate_package(world, args.output, package)
    if args.json:
        from ..codegen.python import generate
        report_written("gen python", sorted(root / name for name in generate(world)), True)
    else:
        print(root)
    return 0


GENERATORS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {
    "c-plugin": (_c_plugin_arguments, _c_plugin_run, "a Nyash BID-1 C plugin skeleton from BID YAML or WIT"),
    "python": (_python_arguments, _python_run, "typed Python bindings from WIT or a component (componentize-py style), "
               "or a typed client from BID YAML; both call through the router"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="generator", metavar="GENERATOR", required=True)
    for name, (add, run_fn, help_text) in GENERATORS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        add(sp)
        add_json_argument(sp)
        sp.set_defaults(_generate=run_fn)


def run(args: argparse.Namespace) -> int:
    return args._generate(args)
