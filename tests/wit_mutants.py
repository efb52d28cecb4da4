"""Mutants of the real WIT corpus (tests/wit_corpus/real): files with one or two random
edits, judged by `wasm-tools component wit` and by reml_wasm.wit.

`compare(count, seed, workdir)` says how many mutants both accept, both reject, and how
many of the rejected ones get our first diagnostic on wasm-tools' line.  Run as a script
(`python tests/wit_mutants.py COUNT SEED`) it prints those figures.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REAL = Path(__file__).parent / "wit_corpus" / "real"
SNIPPETS = ["{", "}", ";", ":", "<", ">", ",", "(", ")", "@", "%", "/", "->", "_", "func", "record",
            "use", "list<", "package", "interface", "world", "borrow<", "own<", "x", "1.0.0", "\n",
            "/*", "*/", "//", "0", "-", "--", "include", "as", "u32", "string", "type", "resource"]
_LOCATION = re.compile(r"-->\s+.*?:(\d+):\d+")


def mutants(count: int, seed: int) -> list[str]:
    """Texts of real corpus files with one or two random edits each (seeded)."""
    rng = random.Random(seed)
    files = sorted(p for p in REAL.rglob("*.wit") if p.stat().st_size < 40_000)
    out = []
    for _ in range(count):
        text = rng.choice(files).read_text(encoding="utf-8")
        for _ in range(rng.randint(1, 2)):
            pos, n, s = rng.randrange(max(len(text), 1)), rng.randint(1, 12), rng.choice(SNIPPETS)
            kind = rng.choice(["delete", "insert", "replace", "duplicate"])
            if kind == "delete":
                text = text[:pos] + text[pos + n:]
            elif kind == "insert":
                text = text[:pos] + s + text[pos:]
            elif kind == "replace":
                text = text[:pos] + s + text[pos + len(s):]
            else:
                text = text[:pos] + text[pos:pos + n] * 2 + text[pos + n:]
        out.append(text)
    return out


def compare(count: int, seed: int, workdir: Path) -> dict:
    """Run both tools on `count` mutants written under `workdir`."""
    from reml_wasm import wit
    from reml_wasm.audit import DiagnosticError

    paths = []
    for i, text in enumerate(mutants(count, seed)):
        path = workdir / f"mutant{i}.wit"
        path.write_text(text, encoding="utf-8")
        paths.append(path)

    def oracle(path: Path) -> subprocess.CompletedProcess:
        for _ in range(3):  # a run the machine's load broke (not wasm-tools' verdict) is retried
            proc = subprocess.run(["wasm-tools", "component", "wit", "--color", "never", str(path)],
                                  capture_output=True, text=True, encoding="utf-8", timeout=120)
            if proc.returncode == 0 or proc.stderr.startswith("error:"):
                break
        return proc

    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = list(pool.map(oracle, paths))
    result: dict = {"accepted": 0, "rejected": 0, "same_line": 0, "one_side": [], "other_line": []}
    for path, proc in zip(paths, procs):
        try:
            wit.load(path)
            ours = None
        except DiagnosticError as exc:
            ours = exc.diagnostic
        if (proc.returncode == 0) != (ours is None):
            result["one_side"].append((path.name, proc.stderr, ours))
            continue
        if ours is None:
            result["accepted"] += 1
            continue
        assert ours.code.startswith("wit."), ours.code
        result["rejected"] += 1
        m = _LOCATION.search(proc.stderr)
        line = None if m is None else int(m.group(1))
        if (ours.location.line if ours.location else None) == line:
            result["same_line"] += 1
        else:
            result["other_line"].append((path.name, ours.render().splitlines()[0], proc.stderr.splitlines()[0]))
    return result


if __name__ == "__main__":  # pragma: no cover - a measuring aid
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's reml_wasm
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        r = compare(n, seed, Path(tmp))
    print(f"{n} mutants (seed {seed}): both accept {r['accepted']}, both reject {r['rejected']}, "
          f"one side only {len(r['one_side'])}; line agrees for {r['same_line']}/{r['rejected']} "
          f"= {r['same_line'] / max(r['rejected'], 1):.2%}")
