"""Hostile inputs for every console script and `reml-wasm` subcommand, shared by
tests/test_cli_hostile.py (and runnable alone: `python tests/cli_hostile_cases.py`
prints every case whose outcome breaks the CLI's contract).

The contract: bad input ends in coded diagnostics and exit status 1, or in an argparse
usage message and exit status 2; never `internal.error`, never a Python traceback, never
a crash.  A few unusual inputs are acceptable and may succeed (MAY_SUCCEED), and good
contents under a file name that is not UTF-8 may too.

A case is an argument list for one program in which `{name}` stands for a prepared
file: `{good-KIND}` a real input of that kind, `{bad-KIND-VARIANT}` a damaged one,
`{out}` a fresh output path, `{tmp}` the scratch directory.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reml_wasm.cli import bindgen_main, main, plugin_tester_main  # noqa: E402

PROGRAMS: dict[str, Callable[[list[str]], int]] = {
    "reml-wasm": main, "reml-bindgen": bindgen_main, "reml-plugin-tester": plugin_tester_main}

# the damaged files every kind of input gets
COMMON_VARIANTS = ("missing", "directory", "socket", "not-utf8", "empty", "nul", "loop", "wrong",
                   "truncated", "huge", "deep", "dangling", "under-file", "executable")

HEADER = (ROOT / "examples/ffi/build/include/mathx.h")


def _good_sources() -> dict[str, bytes]:
    from reml_wasm.benchmarks.component import build_ctest
    from reml_wasm.plugin_samples import build_plugin
    from reml_wasm.toolchain import build_wasi_component
    return {
        "wit": (ROOT / "wit/ctest/ctest.wit").read_bytes(),
        "wasm": Path(build_ctest()).read_bytes(),
        "yaml": (ROOT / "examples/bid/console.yaml").read_bytes(),
        "toml": (ROOT / "examples/nyash/nyash.toml").read_bytes(),
        "json": (ROOT / "examples/ffi/build/reml.json").read_bytes(),
        "header": HEADER.read_bytes(),
        "bgtoml": b'headers = ["h.h"]\noutput = "out.reml"\n',
        "csv": (ROOT / "docs/scenarios.csv").read_bytes(),
        "ccjson": b'[{"directory": ".", "file": "h.h", "arguments": ["cc", "-I", "inc", "h.h"]}]\n',
        "so": Path(build_plugin("counterbox")).read_bytes(),
        "command": Path(build_wasi_component([ROOT / "native/wasi-real/command.c"], None, None,
                                             command=True)).read_bytes(),
    }


SUFFIX = {"command": ".wasm", "wit": ".wit", "wasm": ".wasm", "yaml": ".yaml", "toml": ".toml", "json": ".json",
          "header": ".h", "bgtoml": ".toml", "csv": ".csv", "ccjson": ".json", "so": ".so"}

# numbers past every range, in each kind's syntax
HUGE = {
    "wit": b"package a:b@99999999999999999999999.0.0;\ninterface i {\n  type t = list<u8, 99999999999999999999>;\n}\n",
    "yaml": b"version: 99999999999999999999999999\ninterfaces: []\n",
    "toml": b'[libraries."x.so"]\nboxes = ["B"]\n[libraries."x.so".B]\ntype_id = 99999999999999999999\n'
            b'[libraries."x.so".B.methods]\nbirth = { method_id = 1e999 }\n',
    "json": b'{"package": {"name": "x", "version": "1e99999"}, "ffi": {"libraries": [1e999999], '
            b'"headers": [99999999999999999999999999999]}}\n',
    "header": b"#define BIG 999999999999999999999999999999999\nint f(int a[99999999999999999999999]);\n"
              b"enum e { A = 0x7fffffffffffffffffffffff };\nstruct s { int x : 99999999999; };\n",
    "bgtoml": b"headers = [1e999]\noutput = 99999999999999999999999\n",
    "csv": b"id,kind,command\n" + b"9" * 5000 + b",x,y\n",
    "ccjson": b'[{"directory": 1e99999, "file": 99999999999999999999999, "arguments": [1]}]\n',
    "wasm": b"\x00asm\x0d\x00\x01\x00" + b"\x01" + b"\xff" * 9 + b"\x7f",
    "so": b"\x7fELF\x02\x01\x01" + b"\xff" * 57,
}

# nesting past every parser's stack, in each kind's syntax
_N = 100_000
DEEP = {
    "wit": b"package a:b;\ninterface i {\n  type t = " + b"list<" * _N + b"u8" + b">" * _N + b";\n}\n",
    "yaml": b"version: 1\ninterfaces: " + b"[" * _N + b"]" * _N + b"\n",
    "toml": b"a = " + b"[" * _N + b"]" * _N + b"\n",
    "json": b"[" * _N + b"]" * _N,
    "header": b"int f(int x) { return " + b"(" * _N + b"x" + b")" * _N + b"; }\nint g(void);\n",
    "bgtoml": b"headers = " + b"[" * _N + b"]" * _N + b"\n",
    "csv": b"id,kind,command\n" + b'"' * _N + b"\n",
    "ccjson": b"[" * _N + b"]" * _N,
    "wasm": b"\x00asm\x0d\x00\x01\x00" + b"\x07\xff\xff\x03" + b"\x6b" * _N,
    "so": b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00" + b"\xff" * _N,
}

CASES: list[tuple[str, str, list[str]]] = []


def _add(case_id: str, prog: str, argv: list[str]) -> None:
    CASES.append((case_id, prog, argv))


def _file_slots() -> Iterator[tuple[str, str, str, list[str]]]:
    """(slot name, kind, program, argv with `{F}` where the file goes)."""
    yield "wit", "wit", "reml-wasm", ["wit", "{F}"]
    yield "wit-json", "wit", "reml-wasm", ["wit", "--json", "{F}"]
    yield "reml", "wit", "reml-wasm", ["reml", "{F}", "-o", "{out}/x.reml", "--manifest", "{out}/m.json"]
    yield "call", "wasm", "reml-wasm", ["call", "{F}", "add(1, 2)"]
    yield "call-json-ref", "wasm", "reml-wasm", ["call", "--json", "--path", "wasmtime", "{F}", "add(1, 2)"]
    yield "run", "wasm", "reml-wasm", ["run", "{F}"]
    yield "inspect", "wasm", "reml-wasm", ["inspect", "{F}"]
    yield "gen-c-yaml", "yaml", "reml-wasm", ["gen", "c-plugin", "{F}", "-o", "{out}"]
    yield "gen-c-wit", "wit", "reml-wasm", ["gen", "c-plugin", "{F}", "-o", "{out}"]
    yield "gen-python-wit", "wit", "reml-wasm", ["gen", "python", "{F}", "-o", "{out}"]
    yield "gen-python-wasm", "wasm", "reml-wasm", ["gen", "python", "{F}", "-o", "{out}"]
    yield "gen-python-yaml", "yaml", "reml-wasm", ["gen", "python", "{F}", "-o", "{out}"]
    yield "build", "json", "reml-wasm", ["build", "--config", "{F}", "--cache-dir", "{out}"]
    yield "scenarios", "csv", "reml-wasm", ["scenarios", "--csv", "{F}", "NO-SUCH-ID"]
    yield "call-native-header", "header", "reml-wasm", ["call-native", "m", "cos(0.0)", "--header", "{F}"]
    yield "call-native-lib", "so", "reml-wasm", ["call-native", "{F}", "f()", "--header", "{f-header}"]
    yield "bindgen-header", "header", "reml-bindgen", ["--header", "{F}", "--output", "{out}/b.reml",
                                                       "--manifest", "{out}/m.json"]
    yield "bindgen-config", "bgtoml", "reml-bindgen", ["--config", "{F}"]
    yield "bindgen-ccjson", "ccjson", "reml-bindgen", ["--header", str(HEADER), "--compile-commands", "{F}",
                                                       "--output", "{out}/b.reml", "--manifest", "{out}/m.json"]
    yield "tester-check", "toml", "reml-plugin-tester", ["check", "-c", "{F}"]
    yield "tester-typecheck-json", "toml", "reml-plugin-tester", ["typecheck", "--json", "-c", "{F}"]
    yield "tester-lifecycle", "toml", "reml-plugin-tester", ["lifecycle", "FileBox", "-c", "{F}"]
    yield "tester-io", "toml", "reml-plugin-tester", ["io", "-c", "{F}"]
    yield "tester-validate-all", "toml", "reml-plugin-tester", ["validate-all", "--json", "-c", "{F}"]


for _slot, _kind, _prog, _argv in _file_slots():
    for _variant in COMMON_VARIANTS:
        _add(f"{_slot}-{_variant}", _prog, [a.replace("{F}", f"{{bad-{_kind}-{_variant}}}") for a in _argv])

# outputs that cannot be written: under a regular file, onto a directory (a file where a
# directory is wanted), into /proc, through a symlink loop
BAD_OUTPUTS = {"under-file": ("{good-wit}/x", "{good-wit}/x"), "wrong-kind": ("{tmp}", "{good-wit}"),
               "proc": ("/proc/reml-wasm-test/x", "/proc/reml-wasm-test"),
               "loop": ("{bad-wit-loop}", "{bad-wit-loop}")}
for _name, (_file, _dir) in BAD_OUTPUTS.items():
    _add(f"reml-output-{_name}", "reml-wasm", ["reml", "{good-wit}", "-o", _file])
    _add(f"reml-manifest-{_name}", "reml-wasm", ["reml", "{good-wit}", "-o", "{out}/x.reml", "--manifest", _file])
    _add(f"gen-c-output-{_name}", "reml-wasm", ["gen", "c-plugin", "{good-yaml}", "-o", _dir])
    _add(f"gen-python-output-{_name}", "reml-wasm", ["gen", "python", "{good-wit}", "-o", _dir])
    _add(f"bindgen-output-{_name}", "reml-bindgen", ["--header", str(HEADER), "--output", _file,
                                                     "--manifest", "{out}/m.json"])
    _add(f"bindgen-manifest-{_name}", "reml-bindgen", ["--header", str(HEADER), "--output", "{out}/b.reml",
                                                       "--manifest", _file])
    _add(f"build-cache-{_name}", "reml-wasm", ["build", "--config", "{project}/reml.json", "--cache-dir", _dir])
    _add(f"poc-out-{_name}", "reml-wasm", ["poc", "--out", _dir])

# option values out of range or of the wrong shape
for _opt, _values in {
    "--fuel": ["-1", "0", "abc", "1e999", str(2**70), "", " ", "0x10", "nan", "1_000"],
    "--timeout": ["nan", "-1", "inf", "", "1e999", "0", "abc", "1e-400", str(10**400)],
    "--memory-limit": ["1Q", "99999999999999999999Gi", "-5", "", "Mi", "1.5Mi", "nan", "0", "1e999"],
}.items():
    for _i, _v in enumerate(_values):
        _add(f"call{_opt}-{_i}", "reml-wasm", ["call", "{good-wasm}", "add(1, 2)", _opt, _v])
        _add(f"run{_opt}-{_i}", "reml-wasm", ["run", "{good-wasm}", _opt, _v])
for _i, _v in enumerate(["nan", "-1", "", "inf", "1e999", "abc"]):
    _add(f"tester-timeout-{_i}", "reml-plugin-tester", ["check", "-c", "{good-toml}", "--timeout", _v])
for _i, _v in enumerate(["", "(", "*", "a,,b", "x" * 10000, "é"]):
    _add(f"wit-features-{_i}", "reml-wasm", ["wit", "{good-wit}", "--features", _v])
for _i, _v in enumerate(["", "nosuch", "a:b/c", "a:b/c@x", "reml:ctest/ctest@99999999999999999999.0.0", ":", "/"]):
    _add(f"reml-world-{_i}", "reml-wasm", ["reml", "{good-wit}", "--world", _v, "-o", "{out}/x.reml"])
    _add(f"gen-python-world-{_i}", "reml-wasm", ["gen", "python", "{good-wit}", "--world", _v, "-o", "{out}"])
    _add(f"gen-c-world-{_i}", "reml-wasm", ["gen", "c-plugin", "{good-wit}", "--world", _v, "-o", "{out}"])
for _i, _v in enumerate(["", "a b", "../x", "1abc", "x" * 300, "/", "é"]):
    _add(f"gen-c-name-{_i}", "reml-wasm", ["gen", "c-plugin", "{good-yaml}", "--name", _v, "-o", "{out}"])
    _add(f"gen-python-package-{_i}", "reml-wasm", ["gen", "python", "{good-wit}", "--package", _v, "-o", "{out}"])
for _i, _v in enumerate(["(", "[", "*", "a{99999999999}", "(?P<", "\\"]):
    _add(f"bindgen-regex-{_i}", "reml-bindgen", ["--header", str(HEADER), "--allowlist-function", _v,
                                                  "--output", "{out}/b.reml", "--manifest", "{out}/m.json"])
    _add(f"bindgen-exclude-{_i}", "reml-bindgen", ["--header", str(HEADER), "--exclude", _v,
                                                   "--output", "{out}/b.reml", "--manifest", "{out}/m.json"])
for _i, _v in enumerate(["", "=", "=1", "1X=2", "A=\"unterminated", "A=(", "-", "A B"]):
    _add(f"call-native-define-{_i}", "reml-wasm", ["call-native", "m", "cos(0.0)", "-D", _v])
    _add(f"bindgen-define-{_i}", "reml-bindgen", ["--header", str(HEADER), "-D", _v, "--output", "{out}/b.reml",
                                                  "--manifest", "{out}/m.json"])
for _variant in ("missing", "under-file", "not-utf8", "empty", "loop"):
    _add(f"call-native-include-{_variant}", "reml-wasm", ["call-native", "m", "cos(0.0)", "-I",
                                                          f"{{bad-header-{_variant}}}"])
    _add(f"call-native-search-{_variant}", "reml-wasm", ["call-native", "m", "cos(0.0)", "-L",
                                                         f"{{bad-header-{_variant}}}"])
    _add(f"bindgen-include-{_variant}", "reml-bindgen", ["--header", str(HEADER), "-I", f"{{bad-header-{_variant}}}",
                                                         "--output", "{out}/b.reml", "--manifest", "{out}/m.json"])
for _i, _v in enumerate(["", "noequals", "=x", "A=\udcff", "\udcff=1"]):
    _add(f"run-env-{_i}", "reml-wasm", ["run", "{good-wasm}", "--env", _v])
for _i, _v in enumerate(["", "::", "a::b::c", "{bad-wit-missing}", "{good-wit}", "{bad-wit-loop}", "::/guest",
                         "{tmp}::", "{tmp}::relative", "{tmp}::/a/../..", "\udcff"]):
    _add(f"run-dir-{_i}", "reml-wasm", ["run", "{good-wasm}", "--dir", _v])
    _add(f"run-dir-ro-{_i}", "reml-wasm", ["run", "{good-wasm}", "--dir-ro", _v])
# a real wasi:cli/run command (reports its arguments, GREETING, stdin; reads the paths given)
for _path in ("fast", "wasmtime"):
    for _i, _v in enumerate(["", "::", "a::b::c", "{bad-wit-missing}", "{good-wit}", "{bad-wit-loop}", "::/guest",
                             "{tmp}::relative", "{tmp}::/a/../..", "\udcff", "{bad-wit-socket}"]):
        _add(f"run-command-{_path}-dir-{_i}", "reml-wasm", ["run", "--path", _path, "--dir", _v, "{good-command}"])
    for _i, _v in enumerate(["GREETING=\udcff", "\udcff=1", "GREETING=" + "x" * 100_000, "GREETING=a\x00b"]):
        _add(f"run-command-{_path}-env-{_i}", "reml-wasm", ["run", "--path", _path, "--env", _v, "{good-command}"])
    for _i, _v in enumerate(["\udcff", "a\udcffb", "", "x" * 100_000, "a\x00b", "{bad-wit-missing}", "/etc/passwd"]):
        _add(f"run-command-{_path}-arg-{_i}", "reml-wasm", ["run", "--path", _path, "{good-command}", _v])
    for _i, _v in enumerate([["--fuel", "1"], ["--timeout", "0.000001"], ["--memory-limit", "1"],
                             ["--memory-limit", "64Ki"]]):
        _add(f"run-command-{_path}-limit-{_i}", "reml-wasm", ["run", "--path", _path, *_v, "{good-command}"])
for _i, _v in enumerate(["nosuch", "add,nosuch", "x" * 1000]):
    _add(f"bench-cases-{_i}", "reml-wasm", ["bench", "component", "--cases", _v, "--quick"])
_add("bench-unknown", "reml-wasm", ["bench", "nosuch"])
for _prog in PROGRAMS:
    _add(f"{_prog}-completion-unknown-shell", _prog, ["--print-completion", "fish"])
    _add(f"{_prog}-unknown-option", _prog, ["--no-such-option"])
_add("tester-lifecycle-unknown-box", "reml-plugin-tester", ["lifecycle", "NoSuchBox", "-c", "{good-toml}"])
_add("tester-no-command", "reml-plugin-tester", [])
_add("bindgen-nothing", "reml-bindgen", ["--config", "{bad-bgtoml-missing}"])
_add("build-no-config", "reml-wasm", ["build", "--config", "{tmp}/absent/reml.json"])
_add("scenarios-unknown-id", "reml-wasm", ["scenarios", "NO-SUCH-ID", "--csv", "{good-csv}"])
# call and call-native text that is not a call, or calls what does not exist
for _i, _v in enumerate(["", "add", "add(", "add(1, 2", "add(1,, 2)", "nosuch()", "add(1)", "add(1, 2, 3)",
                         "add(\"x\", 2)", "add(99999999999999999999999, 1)", "add(1e999, 1)", "echo(\"\udcff\")",
                         "echo(\"\\u{d800}\")", "echo('x')", "#add(1, 2)", "a#b#c()", "echo(" + "[" * 5000 + ")",
                         "add(1, 2) trailing", "\udcff(1)", "add(-0, -0)", "echo(\"\x00\")", "echo-list([1, -1])"]):
    _add(f"call-text-{_i}", "reml-wasm", ["call", "{good-wasm}", _v])
    _add(f"call-text-ref-{_i}", "reml-wasm", ["call", "--path", "wasmtime", "{good-wasm}", _v])
for _i, _v in enumerate(["", "cos", "cos(", "cos(0.0", "nosuch(1)", "cos(1, 2)", "cos(\"x\")", "cos(1e999)",
                         "abs(99999999999999999999999)", "abs(0x)", "abs(1e)", "strlen(NULL)", "abs(\udcff)",
                         "abs(" + "(" * 5000 + ")", "puts(\"\x00\")", "abs(-)", "abs(--1)", "abs(1 +)",
                         "abs(sizeof)", "abs((int)", "abs(1/0)", "abs(1 << 99999)", "abs(1 % 0)"]):
    _add(f"call-native-text-{_i}", "reml-wasm", ["call-native", "c", _v, "--header", "stdlib.h",
                                                  "--header", "string.h", "--header", "stdio.h"])

# files named by a configuration that are themselves damaged
REFERRING = {
    "tester-library": ("so", "reml-plugin-tester", ["check", "-c", "{cfg}"], "toml",
                       '[libraries."x.so"]\nboxes = ["B"]\npath = "{F}"\n[libraries."x.so".B]\ntype_id = 9\n'
                       '[libraries."x.so".B.methods]\nbirth = {{ method_id = 0 }}\n'
                       'fini = {{ method_id = 4294967295 }}\n'),
    "tester-library-all": ("so", "reml-plugin-tester", ["validate-all", "-c", "{cfg}"], "toml",
                           '[libraries."x.so"]\nboxes = ["B"]\npath = "{F}"\n[libraries."x.so".B]\ntype_id = 9\n'
                           '[libraries."x.so".B.methods]\nbirth = {{ method_id = 0 }}\nget = {{ method_id = 1 }}\n'
                           'fini = {{ method_id = 4294967295 }}\n'),
    "build-header": ("header", "reml-wasm", ["build", "--config", "{cfg}", "--cache-dir", "{out}"], "json",
                     '{{"package": {{"name": "x", "version": "0.1.0"}}, "ffi": {{"libraries": ["m"], '
                     '"headers": ["{F}"], "bindgen": {{"enabled": true, "output": "{out}/g.reml"}}}}}}\n'),
    "build-library": ("so", "reml-wasm", ["build", "--config", "{cfg}", "--cache-dir", "{out}"], "json",
                      '{{"package": {{"name": "x", "version": "0.1.0"}}, "ffi": {{"libraries": ["{F}"], '
                      '"headers": ["h.h"], "bindgen": {{"enabled": true, "output": "{out}/g.reml"}}}}}}\n'),
    "bindgen-config-header": ("header", "reml-bindgen", ["--config", "{cfg}"], "bgtoml",
                              'headers = ["{F}"]\ninclude_paths = ["."]\noutput = "{out}/b.reml"\n'
                              'manifest = "{out}/m.json"\n'),
    "wit-deps": ("wit", "reml-wasm", ["wit", "{dir}"], "witdir", ""),
    "reml-deps": ("wit", "reml-wasm", ["reml", "{dir}", "-o", "{out}/x.reml"], "witdir", ""),
}
for _slot, (_kind, _prog, _argv, _cfg_kind, _text) in REFERRING.items():
    for _variant in COMMON_VARIANTS:
        _add(f"{_slot}-{_variant}", _prog, [a.replace("{cfg}", f"{{cfg-{_slot}-{_variant}}}")
                                             .replace("{dir}", f"{{dir-{_slot}-{_variant}}}") for a in _argv])

# good contents under names that are not UTF-8 (what a shell hands over as surrogates)
for _slot, _kind, _prog, _argv in _file_slots():
    _add(f"{_slot}-name-not-utf8", _prog, [a.replace("{F}", f"{{odd-{_kind}}}") for a in _argv])
    _add(f"{_slot}-name-not-utf8-missing", _prog, [a.replace("{F}", f"{{odd-{_kind}}}.absent") for a in _argv])


def _loopy(path: Path) -> None:
    other = path.with_name(path.name + ".other")
    os.symlink(other.name, path)
    os.symlink(path.name, other)


def make_variant(path: Path, kind: str, variant: str, good: dict[str, bytes]) -> str:
    """Create the damaged file `variant` of `kind` at `path`; the path to name it by."""
    data = good[kind]
    if variant == "directory":
        path.mkdir()
    elif variant == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    elif variant == "not-utf8":
        path.write_bytes(b"\xff\xfe\x80" + data[:200] + b"\xc3(\xa0\xa1")
    elif variant == "empty":
        path.write_bytes(b"")
    elif variant == "nul":
        path.write_bytes(data[: len(data) // 3] + b"\x00" * 8 + data[len(data) // 3:])
    elif variant == "loop":
        _loopy(path)
    elif variant == "wrong":
        path.write_bytes(good["wasm"] if kind != "wasm" else good["so"])
    elif variant == "executable":
        path.write_bytes(Path("/bin/true").read_bytes())
    elif variant == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif variant == "huge":
        path.write_bytes(HUGE[kind])
    elif variant == "deep":
        path.write_bytes(DEEP[kind])
    elif variant == "dangling":
        os.symlink("no-such-target", path)
    elif variant == "under-file":
        plain = path.with_name("plain" + SUFFIX[kind])
        plain.write_bytes(data)
        return str(plain / ("inside" + SUFFIX[kind]))
    return str(path)  # ("missing": nothing is there)


def prepare(tmp: Path) -> dict[str, str]:
    """Create every file the cases name under `tmp`; the substitution table."""
    good = _good_sources()
    table = {"tmp": str(tmp), "out": str(tmp / "out"), "project": str(tmp / "project")}
    shutil.copytree(ROOT / "examples/ffi/build", tmp / "project")  # builds write next to their reml.json
    goods = tmp / "good"
    goods.mkdir()
    names = {"toml": "nyash.toml", "bgtoml": "reml-bindgen.toml", "ccjson": "compile_commands.json"}
    for kind, data in good.items():
        path = goods / names.get(kind, f"{kind}{SUFFIX[kind]}")  # (nyash.toml's plugins are not there)
        path.write_bytes(data)
        table[f"good-{kind}"] = str(path)
    (goods / "f.h").write_text("int f(void);\n")
    table["f-header"] = str(goods / "f.h")
    damaged = [kind for kind in good if kind in HUGE]  # (the command serves the `run` cases only)
    for kind in damaged:
        base = tmp / f"bad-{kind}"
        base.mkdir()
        for variant in COMMON_VARIANTS:
            table[f"bad-{kind}-{variant}"] = make_variant(base / f"{variant}{SUFFIX[kind]}", kind, variant, good)
    for kind in damaged:
        data = good[kind]
        odd = tmp / f"\udcff\udcfe-{kind}{SUFFIX[kind]}"
        Path(os.fsencode(odd).decode("utf-8", "surrogateescape")).write_bytes(data)
        table[f"odd-{kind}"] = str(odd)
    for slot, (kind, _prog, _argv, cfg_kind, text) in REFERRING.items():
        for variant in COMMON_VARIANTS:
            if cfg_kind == "witdir":
                folder = tmp / f"dir-{slot}-{variant}"
                (folder / "deps").mkdir(parents=True)
                (folder / "main.wit").write_text("package a:main;\nworld w {\n  import dep:x/i;\n}\n")
                make_variant(folder / "deps" / f"dep{SUFFIX[kind]}", kind, variant, good)
                table[f"dir-{slot}-{variant}"] = str(folder)
                continue
            folder = tmp / f"cfg-{slot}-{variant}"
            folder.mkdir()
            # the damaged file sits inside the project (a build refuses paths outside it)
            bad = make_variant(folder / f"bad{SUFFIX[kind]}", kind, variant, good)
            (folder / "h.h").write_text("int f(void);\n")
            cfg = folder / names.get(cfg_kind, f"reml.{cfg_kind}")
            cfg.write_text(text.format(F=bad, out=str(folder / "out")))
            table[f"cfg-{slot}-{variant}"] = str(cfg)
    return table


def substitute(argv: list[str], table: dict[str, str], out: Path) -> list[str]:
    table = dict(table, out=str(out))
    result = []
    for arg in argv:
        for key, value in table.items():
            arg = arg.replace("{" + key + "}", value)
        result.append(arg)
    return result


def run_case(prog: str, argv: list[str]) -> tuple[int, str, str]:
    """Run one program in-process: (exit status, stdout, stderr)."""
    # like a real process's streams: UTF-8, strict on stdout, backslashes on stderr
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = PROGRAMS[prog](argv)
        except SystemExit as exc:  # argparse: --help, usage errors
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # noqa: BLE001 - reported as the broken contract it is
            import traceback
            return -1, _text(out), _text(err) + "Traceback (escaped main):\n" + traceback.format_exc()
    return status, _text(out), _text(err)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8", "replace")


# cases whose input is unusual but acceptable: they may succeed
MAY_SUCCEED = {
    "reml-manifest-loop", "bindgen-manifest-loop",   # the rename replaces the looping link itself
    "call--fuel-9",                                  # 1_000 is an integer literal
    *(f"wit-features-{i}" for i in range(6)),         # unknown feature names enable nothing (as in wasm-tools)
    "gen-python-world-0",                             # an empty --world is no --world
    # a component under a .wit name: told by content, as wasm-tools does, so its world is read
    "wit-wrong", "wit-json-wrong", "reml-wrong", "gen-python-wit-wrong",
    "gen-python-package-6",                           # é is a Python identifier
    "call-native-define-4", "call-native-define-5", "call-native-define-7",  # unused macros
    *(f"call-native-{opt}-{v}" for opt in ("include", "search")            # the compiler and the loader
      for v in ("missing", "under-file", "not-utf8", "empty", "loop")),    # skip what is not a directory
    "call-text-19", "call-text-ref-19", "call-text-20", "call-text-ref-20",  # -0 and NUL are values
    "call-native-text-14",                            # "\0" is a C string
    "bindgen-header-empty", "build-header-empty", "bindgen-config-header-empty",  # nothing to bind: a warning
    "bindgen-define-4", "bindgen-define-5",          # unused macros
    *(f"bindgen-include-{v}" for v in ("missing", "under-file", "not-utf8", "empty", "loop")),
    *(f"run-command-{p}-dir-{i}" for p in ("fast", "wasmtime") for i in (7, 8)),  # guest names are names
    *(f"run-command-{p}-arg-{i}" for p in ("fast", "wasmtime") for i in (2, 4, 5, 6)),  # the guest reads, denied
    *(f"run-command-{p}-limit-1" for p in ("fast", "wasmtime")),  # a 1 µs deadline may pass before it is seen
}


def broken(status: int, stderr: str, case_id: str = "") -> str | None:
    """Why an outcome breaks the contract, or None."""
    if "Traceback" in stderr:
        return "traceback"
    if "internal.error" in stderr:
        return "internal.error"
    if status == 0 and (case_id in MAY_SUCCEED or case_id.endswith("-name-not-utf8")):
        return None  # (good contents under a name that is not UTF-8 must work)
    if status == 1:
        return None if stderr.strip() else "exit 1 without a diagnostic"
    if status == 2:
        return None if "usage:" in stderr else "exit 2 without a usage message"
    return f"exit status {status}"


def run_all(scratch: Path, only: list[str]) -> dict:
    """Every case (or those whose id starts with one of `only`): how many ran, and each
    one that broke the contract with its exit status and the end of its stderr.  With
    REML_HOSTILE_TRACE set, each case id goes to stderr before it runs (to find a crash)."""
    table = prepare(scratch)
    ran, bad = 0, []
    for n, (case_id, prog, argv) in enumerate(CASES):
        if only and not any(case_id.startswith(o) for o in only):
            continue
        if os.environ.get("REML_HOSTILE_TRACE"):
            print("RUN", case_id, file=sys.__stderr__, flush=True)
        out = scratch / f"out{n}"
        status, _stdout, stderr = run_case(prog, substitute(argv, table, out))
        ran += 1
        why = broken(status, stderr, case_id)
        if why:
            bad.append({"case": case_id, "why": why, "status": status, "stderr": stderr.strip()[-600:]})
        shutil.rmtree(out, ignore_errors=True)
    return {"ran": ran, "broken": bad}


def random_c_calls(examples: int) -> dict:
    """`call-native` on random C argument text (constant expressions built from a small
    grammar, and raw text): every outcome a result or a coded diagnostic.  Runs in its own
    process: a call that crashes must come back as `ffi.call.crashed`, not end the run."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    literal = st.one_of(
        st.integers(-2**70, 2**70).map(str), st.floats(allow_nan=False).map(repr),
        st.sampled_from(["0x7fffffffffffffff", "0xffffffffffffffffff", "1u", "1ull", "07", "09", "1e999", "-0.0",
                         "1.5f", "'a'", "'\\0'", "'\\777'", '"s"', '"\\xff"', '""', "NULL", "INT_MAX", "EOF",
                         "sizeof(int)", "LLONG_MIN", "SIZE_MAX"]))
    expr = st.recursive(literal, lambda e: st.one_of(
        e.map(lambda x: f"({x})"),
        st.tuples(st.sampled_from(["-", "~", "!", "(int)", "(unsigned char)", "(double)", "(char*)", "(void*)",
                                   "(short)"]), e).map("".join),
        st.tuples(e, st.sampled_from([" + ", " - ", " * ", " / ", " % ", " << ", " >> ", " & ", " | ", " && "]),
                  e).map("".join)), max_leaves=5)
    raw = st.lists(st.sampled_from(["(", ")", ",", "-", "0", "0x", "1e999", "'", '"', "\\", "NULL", "\x00",
                                    "\udcff", " ", "[", "{1}", "&", "x"]), max_size=8).map("".join)
    arity = {"abs": 1, "labs": 1, "strlen": 1, "atoi": 1, "puts": 1, "isalpha": 1, "toupper": 1, "memset": 3,
             "strncmp": 3, "strtol": 3, "getenv": 1, "ldexp": 2, "cos": 1, "nosuch": 1}
    headers = [a for h in ("stdlib.h", "string.h", "stdio.h", "ctype.h", "math.h", "limits.h", "stdint.h")
               for a in ("--header", h)]
    ran, bad = 0, []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True)
    @given(func=st.sampled_from(sorted(arity)), data=st.data())
    def one(func: str, data: st.DataObject) -> None:
        nonlocal ran
        args = data.draw(st.lists(st.one_of(expr, expr, raw, st.text(max_size=12)), min_size=arity[func],
                                  max_size=arity[func]))
        lib = "m" if func in ("ldexp", "cos") else "c"
        status, _out, err = run_case("reml-wasm", ["call-native", lib, f"{func}({', '.join(args)})", *headers])
        ran += 1
        why = broken(1 if status == 0 else status, err or "(no output)")
        if why:
            bad.append({"case": f"{func}({', '.join(args)})", "why": why, "status": status, "stderr": err[-600:]})
    one()
    return {"ran": ran, "broken": bad}


if __name__ == "__main__":
    import json
    import tempfile
    if sys.argv[1:2] == ["random-c"]:
        result = random_c_calls(int(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_all(Path(tmp), sys.argv[1:])
    for b in result["broken"]:
        print(f"{b['case']}: {b['why']} (status {b['status']})\n    {b['stderr']}", file=sys.stderr)
    print(json.dumps(result))
