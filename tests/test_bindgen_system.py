"""reml-bindgen and call-native on ordinary system headers: the compiler's include
directories, what gets bound (a library's own included headers, umbrella headers,
wrapper.h, allow/block lists), asm-label renames, and the everyday call-native calls.

The oracle for "every function math.h declares" is GCC itself: `-aux-info` writes one
prototype per function declared in the translation unit, with the declaring file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from bindgen_support import ROOT, run_tool

from reml_wasm.cli.call_native import call_native


def gcc_declared_functions(source: str, tmp_path: Path) -> dict[str, str]:
    """{function: declaring file} as `gcc -aux-info` reports for `source`."""
    c = tmp_path / "probe.c"
    c.write_text(source)
    aux = tmp_path / "aux.txt"
    subprocess.run(["gcc", "-c", str(c), "-o", str(tmp_path / "probe.o"), "-aux-info", str(aux)],
                   check=True, capture_output=True)
    found = {}
    for line in aux.read_text().splitlines():
        m = re.match(r"/\* (\S+):\d+:\S+ \*/ (.*);$", line)
        if m:
            name = re.search(r"(\w+) \((?:[^()]|\([^()]*\))*\)$", m.group(2))
            assert name, line
            found[name.group(1)] = m.group(1)
    return found


def bind(tmp_path: Path, capsys, *args: str) -> tuple[int, list[dict], str]:
    out = tmp_path / "out"
    rc, events = run_tool([*args, "--output", str(out / "x.reml"),
                           "--manifest", str(out / "bindings.manifest.json")], capsys)
    text = (out / "x.reml").read_text() if (out / "x.reml").exists() else ""
    return rc, events, text


def extern_names(text: str) -> set[str]:
    return set(re.findall(r"\bfn (\w+)\(", text))


def test_math_h_binds_every_function_gcc_sees_declared(tmp_path, capsys):
    """By header name only (found where the compiler looks); the functions glibc declares
    in bits/mathcalls*.h are bound: in the extern block, or skipped with a warning naming
    the type Reml lacks (long double, _Float128)."""
    expected = gcc_declared_functions("#include <math.h>\n", tmp_path)
    assert len(expected) > 400 and "cos" in expected
    rc, events, text = bind(tmp_path, capsys, "--header", "math.h")
    assert rc == 0, events[-1]
    parse = next(e for e in events if e["event"] == "bindgen.parse")
    assert parse["functions"] == len(expected)
    skipped = {d["extensions"]["symbol"] for d in events[-1]["diagnostics"]
               if d["code"] == "ffi.bindgen.unknown_type"}
    bound = extern_names(text)
    assert bound | skipped == set(expected), sorted(set(expected) ^ (bound | skipped))[:10]
    assert {"cos", "sin", "pow", "frexp", "lgamma_r"} <= bound
    assert "cosl" in skipped  # long double has no Reml type


def test_docs_example_zlib_without_include_path(tmp_path, capsys):
    rc, events, text = bind(tmp_path, capsys, "--header", "zlib.h", "--verify-layout")
    assert rc == 0, events[-1]
    assert {"deflate", "inflate", "zlibVersion"} <= extern_names(text)
    assert "lseek" not in extern_names(text)  # zconf.h pulls in unistd.h: another library's


@pytest.mark.parametrize("header, function", [("poll.h", "poll"), ("lzma.h", "lzma_code"),
                                              ("sodium.h", "crypto_secretbox_easy"),
                                              ("curl/curl.h", "curl_easy_perform"),
                                              ("sys/stat.h", "fstat")])
def test_umbrella_and_library_headers_bind_what_they_include(header, function, tmp_path, capsys):
    rc, events, text = bind(tmp_path, capsys, "--header", header)
    assert rc == 0, events[-1]
    assert function in extern_names(text)
    assert not [d for d in events[-1]["diagnostics"] if d["code"] == "ffi.bindgen.no_functions"]


def test_wrapper_h_binds_the_headers_it_includes(tmp_path, capsys):
    wrapper = tmp_path / "wrapper.h"
    wrapper.write_text("#include <zlib.h>\n#include <poll.h>\n")
    rc, events, text = bind(tmp_path, capsys, "--header", str(wrapper))
    assert rc == 0, events[-1]
    names = extern_names(text)
    assert {"deflate", "poll"} <= names and "lseek" not in names


def test_a_header_without_functions_says_so(tmp_path, capsys):
    header = tmp_path / "types.h"
    header.write_text("struct point { int x, y; };\n#define ORIGIN 0\n")
    rc, events, _ = bind(tmp_path, capsys, "--header", str(header))
    assert rc == 0
    warn = [d for d in events[-1]["diagnostics"] if d["code"] == "ffi.bindgen.no_functions"]
    assert len(warn) == 1 and warn[0]["severity"] == "warning"


def test_allowlist_and_blocklist(tmp_path, capsys):
    rc, events, text = bind(tmp_path, capsys, "--header", "zlib.h", "--allowlist-function", "deflate.*",
                            "--blocklist-function", "deflateBound", "--allowlist-var", "Z_OK")
    assert rc == 0, events[-1]
    names = extern_names(text)
    assert "deflate" in names and "deflateInit2_" in names and "deflateBound" not in names
    assert "inflate" not in names and "zlibVersion" not in names
    assert "pub const Z_OK" in text and "Z_ERRNO" not in text
    # allowlisting a file binds what it declares, wherever it is
    rc, events, text = bind(tmp_path, capsys, "--header", "zlib.h", "--allowlist-file", r".*/unistd\.h")
    assert rc == 0
    names = extern_names(text)
    assert "lseek" in names and "deflate" not in names
    rc, events, text = bind(tmp_path, capsys, "--header", "zlib.h", "--blocklist-file", r".*/zlib\.h")
    assert rc == 0 and not extern_names(text)
    rc, events, _ = bind(tmp_path, capsys, "--header", "zlib.h", "--allowlist-type", "(")
    assert rc == 1 and events[-1]["diagnostics"][0]["code"] == "ffi.bindgen.config_invalid"


def test_asm_label_renames_bind_the_real_symbol(tmp_path, capsys):
    """glibc's __REDIRECT: strerror_r is the XSI function `__xpg_strerror_r` unless
    _GNU_SOURCE is defined; the binding must link to the symbol the compiler would."""
    rc, events, text = bind(tmp_path, capsys, "--header", "string.h")
    assert rc == 0
    assert '@link_name("__xpg_strerror_r") fn strerror_r(' in text
    rc, events, text = bind(tmp_path, capsys, "--header", "string.h", "-D", "_GNU_SOURCE")
    assert rc == 0
    line = next(ln for ln in text.splitlines() if "fn strerror_r(" in ln)
    assert "@link_name" not in line and line.endswith("-> Ptr<i8>;")


@pytest.mark.parametrize("argv, printed", [(["m", "cos(0.0)"], "1.0"), (["c", "abs(-3)"], "3"),
                                           (["m", "pow(2.0, 10.0)"], "1024.0"),
                                           (["c", 'strlen("hello")'], "5")])
def test_call_native_everyday_calls(argv, printed):
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "call-native", *argv],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == printed + "\n"


def test_call_native_uses_the_redirected_symbol():
    value, text = call_native("c", "strerror_r(34, \"\", 0)", ["string.h"])
    assert value == 34 and text == "34"  # ERANGE from the XSI version: the buffer is too small


def test_blocklisted_type_is_never_emitted(tmp_path, capsys):
    rc, events, text = bind(tmp_path, capsys, "--header", "zlib.h", "--blocklist-type", "z_stream_s|z_stream|z_streamp")
    assert rc == 0, events[-1]
    assert "pub type z_stream_s" not in text and "z_streamp" not in text
    names = extern_names(text)
    assert "deflate" not in names and "compress" in names and "zlibVersion" in names
    skipped = [d for d in events[-1]["diagnostics"] if d["code"] == "ffi.bindgen.unknown_type"
               and d["extensions"]["symbol"] == "deflate"]
    assert skipped and "blocklisted" in skipped[0]["message"]


def test_a_header_of_constants_is_not_an_umbrella(tmp_path, capsys):
    header = tmp_path / "consts.h"
    header.write_text("#ifndef CONSTS_H\n#define CONSTS_H\n#include <stdint.h>\n#define ANSWER 42\n#endif\n")
    rc, events, text = bind(tmp_path, capsys, "--header", str(header))
    assert rc == 0
    assert "pub const ANSWER: i32 = 42" in text and "INT8_MAX" not in text
    umbrella = tmp_path / "all.h"
    umbrella.write_text("#ifndef ALL_H\n#define ALL_H\n#include <zlib.h>\n#endif\n")
    rc, events, text = bind(tmp_path, capsys, "--header", str(umbrella))
    assert rc == 0 and "deflate" in extern_names(text)


def test_call_native_json_carries_the_result():
    import json
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "call-native", "m", "pow(2.0, 3.0)", "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"library": "m", "call": "pow(2.0, 3.0)", "result": "8.0"}
