"""`reml-wasm bench wit`: parse + resolve a generated WIT tree (>= 5,000 lines: a main
package and dependency packages under deps/), next to `wasm-tools component wit --json`
on the same tree in the same run."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import wit
from . import Table


def _interface(pkg: int, i: int, uses: str | None) -> str:
    lines = [f"/// Interface {i} of package {pkg}.", f"interface api{i} {{"]
    if uses:
        lines.append(f"  use {uses}.{{id, point}};")
    else:
        lines += ["  type id = u64;", "  record point {", "    x: s32,", "    y: s32,", "  }"]
    lines += [
        f"  record item{i} {{", "    /// the key", "    key: id,", "    name: string,",
        "    tags: list<string>,", "    at: option<point>,", "  }",
        f"  variant event{i} {{", "    created(item" + str(i) + "),", "    deleted(id),",
        "    moved(tuple<point, point>),", "    none,", "  }",
        f"  enum level{i} {{", "    low,", "    mid,", "    high,", "  }",
        f"  flags access{i} {{", "    read,", "    write,", "    admin,", "  }",
        f"  resource store{i} {{", "    constructor(name: string);",
        f"    get: func(key: id) -> result<item{i}, string>;",
        f"    put: func(value: item{i}) -> result<_, string>;",
        f"    scan: func(start: id, limit: u32) -> list<item{i}>;",
        f"    open: static func(name: string) -> result<store{i}, string>;", "  }",
        f"  handle{i}: func(e: event{i}, l: level{i}, a: access{i}) -> option<list<u8>>;",
        f"  batch{i}: async func(items: list<item{i}>, s: borrow<store{i}>) -> future<result<u64, string>>;",
        f"  table{i}: func(m: map<string, list<u8, 4>>) -> stream<event{i}>;",
        "}", ""]
    return "\n".join(lines)


def write_tree(root: Path, packages: int = 14, interfaces: int = 10) -> int:
    """Write the benchmark tree; returns its line count."""
    total = 0
    for p in range(packages):
        is_main = p == packages - 1
        folder = root if is_main else root / "deps" / f"pkg{p}"
        folder.mkdir(parents=True, exist_ok=True)
        head = f"package bench:pkg{p}@1.{p}.0;\n\n"
        dep = f"bench:pkg{p - 1}/api0@1.{p - 1}.0" if p else None
        for half in range(2):  # two files per package
            body = head
            for i in range(half * interfaces // 2, (half + 1) * interfaces // 2):
                uses = dep if i == 0 else "api0"
                body += _interface(p, i, uses if (p or i) else None)
            if half == 1:
                body += "world app {\n" + "".join(f"  import api{i};\n" for i in range(interfaces // 2)) + \
                    "".join(f"  export api{i};\n" for i in range(interfaces // 2 + 1, interfaces)) + \
                    "  export run: func(args: list<string>) -> result<_, string>;\n}\n"
            (folder / f"part{half}.wit").write_text(body)
            total += body.count("\n")
    return total


def _median_seconds(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


# The largest real tree of the repository's test corpus (the Spin SDK's WIT, 22,000
# lines, 68 packages), when the benchmark runs from a checkout.
REAL_TREE = Path(__file__).resolve().parents[2] / "tests" / "wit_corpus" / "real" / "spin-sdk-5.0.0"


def _process_rows(table: Table, root: Path, label: str, repeat: int, exe: str | None) -> None:
    """Process start to JSON on `root`, ours vs wasm-tools, the two outputs checked equal."""
    expected = wit.load(root).to_json_text().encode("utf-8")

    def process(cmd: list[str]) -> None:
        proc = subprocess.run(cmd, capture_output=True, check=True)
        assert proc.stdout == expected, "outputs differ"

    t_ours = _median_seconds(lambda: process([sys.executable, "-m", "reml_wasm", "wit", "--json", str(root)]),
                             repeat)
    t_tools = _median_seconds(lambda: process([exe, "component", "wit", "--json", str(root)]),  # type: ignore[list-item]
                              repeat) if exe else float("nan")
    table.add(f"reml-wasm wit --json, {label} (process start to JSON)", t_ours * 1e3, t_ours / t_tools)
    table.add(f"wasm-tools component wit --json, {label} (process)", t_tools * 1e3, 1.0)


def run(args: argparse.Namespace) -> int:
    repeat = 3 if args.quick else 9
    exe = shutil.which("wasm-tools")
    with tempfile.TemporaryDirectory(prefix="reml-wasm-bench-wit-") as tmp:
        root = Path(tmp)
        lines = write_tree(root)
        t_load = _median_seconds(lambda: wit.load(root), repeat)
        t_json = _median_seconds(lambda: wit.load(root).to_json_text(), repeat)
        t_tools = _median_seconds(lambda: subprocess.run([exe, "component", "wit", "--json", str(root)],
                                                         capture_output=True, check=True),
                                  repeat) if exe else float("nan")
        table = Table(f"WIT front-end: generated tree of {lines} lines (14 packages, 140 interfaces)"
                      + (f"; real tree {REAL_TREE.name}" if REAL_TREE.is_dir() else ""),
                      ["what", "ms", "vs wasm-tools"])
        table.add("reml_wasm wit.load, generated tree (parse + resolve, in process)", t_load * 1e3,
                  t_load / t_tools)
        table.add("reml_wasm load + JSON text, generated tree (in process)", t_json * 1e3, t_json / t_tools)
        _process_rows(table, root, "generated tree", repeat, exe)
    if REAL_TREE.is_dir():
        _process_rows(table, REAL_TREE, "largest real tree", repeat, exe)
    table.notes.append(f"median of {repeat} runs; 'vs wasm-tools' divides by wasm-tools' process time on "
                       "the same tree; every process's stdout is checked byte-identical to the "
                       "in-process JSON text")
    table.print(args.json)
    return 0
