"""`reml-wasm bench wit`: parse + resolve a generated WIT tree (>= 5,000 lines: a main
package and dependency packages under deps/) and the largest real tree of the test corpus,
next to `wasm-tools component wit --json` on the same tree in the same run: in process,
and as processes from start to JSON (the goal: at most 3x wasm-tools on the largest tree)."""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from .. import wit
from . import USER_ENV, Table, Timing, interleaved, spread, verdict


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


# The largest real tree of the repository's test corpus (the Spin SDK's WIT, 22,000
# lines, 68 packages), when the benchmark runs from a checkout.
REAL_TREE = Path(__file__).resolve().parents[2] / "tests" / "wit_corpus" / "real" / "spin-sdk-5.0.0"
GOAL_RATIO = 3.0  # process start to JSON on the largest tree, at most this many times wasm-tools


class _Process:
    """Runs of `cmd` as a user's process, each stdout checked equal to `expected`; `cpu`
    keeps the CPU seconds (user + system) of every run after the first (the warm-up)."""

    def __init__(self, cmd: list[str], expected: bytes) -> None:
        self.cmd, self.expected = cmd, expected
        self.runs = 0
        self.cpu: list[float] = []

    def __call__(self) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(self.cmd, capture_output=True, env=USER_ENV)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0 or proc.stdout != self.expected:
            raise RuntimeError(f"{self.cmd[0]}: exit {proc.returncode}, output differs from the in-process JSON "
                               f"({proc.stderr.decode(errors='replace').strip()[-200:]})")
        self.runs += 1
        if self.runs > 1:
            self.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    def cpu_ms(self) -> float:
        """Median CPU milliseconds of the timed runs."""
        return statistics.median(self.cpu) * 1e3 if self.cpu else float("nan")


def run(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    rounds = 9
    exe = shutil.which("wasm-tools")
    table = Table("WIT front-end: ms, medians of interleaved rounds; processes from start to JSON "
                  "(generated tree: 14 packages; largest real tree: " + REAL_TREE.name + ")",
                  ["what", "ms", "spread", "vs wasm-tools", "goal", "CPU ms", "CPU vs wasm-tools"])
    with tempfile.TemporaryDirectory(prefix="reml-wasm-bench-wit-") as tmp:
        root = Path(tmp)
        lines = write_tree(root)
        trees = [(f"generated, {lines:,} lines", root)]
        if REAL_TREE.is_dir():
            real_lines = sum(p.read_text().count("\n") for p in REAL_TREE.rglob("*.wit"))
            trees.append((f"largest real tree, {real_lines:,} lines", REAL_TREE))
        for label, tree in trees:
            expected = wit.load(tree).to_json_bytes()
            our_process = _Process([sys.executable, "-m", "reml_wasm", "wit", "--json", str(tree)], expected)
            tools_process = _Process([exe, "component", "wit", "--json", str(tree)], expected) if exe else None
            fns: list[Callable[[], Any]] = [
                lambda: wit.load(tree),
                lambda: wit.load(tree).to_json_bytes(),
                our_process]
            if tools_process:
                fns.append(tools_process)
            timings = interleaved(fns, rounds=rounds, quick=quick, single=True, label=label)
            tools = timings[3] if exe else None
            is_real = tree == REAL_TREE

            def ratio(t: Timing) -> float:
                return t.median / tools.median if tools else float("nan")
            load, load_json, ours = timings[:3]
            table.add(f"{label}: wit.load in process", load.median / 1e6, spread(load),
                      f"{ratio(load):.2f}x", "-", "-", "-")
            table.add(f"{label}: wit.load + JSON in process", load_json.median / 1e6, spread(load_json),
                      f"{ratio(load_json):.2f}x", "-", "-", "-")
            goal = (f"<= {GOAL_RATIO:g}x: {verdict(ratio(ours), GOAL_RATIO)}" if tools and is_real
                    else "-")
            tools_cpu = tools_process.cpu_ms() if tools_process else float("nan")
            table.add(f"{label}: reml-wasm wit --json, process", ours.median / 1e6, spread(ours),
                      f"{ratio(ours):.2f}x", goal, our_process.cpu_ms(),
                      f"{our_process.cpu_ms() / tools_cpu:.2f}x")
            if tools:
                table.add(f"{label}: wasm-tools component wit --json", tools.median / 1e6,
                          spread(tools), "1.00x", "-", tools_cpu, "1.00x")
    if not exe:
        table.notes.append("wasm-tools is not on PATH: no comparison")
    table.notes.append(f"{1 if quick else rounds} rounds, each timing every row once in turn (after one untimed run "
                       "of each); processes run with bytecode caching on, as a user's do; every process's stdout "
                       "is checked byte-identical to the in-process JSON text; the goal is judged on the ratio "
                       "of this run's medians (wall clock); CPU ms: median user + system time of the same "
                       "processes, which a busy machine disturbs far less than wall time")
    table.print(getattr(args, "json", False))
    return 0
