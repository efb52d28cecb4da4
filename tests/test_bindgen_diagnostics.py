"""Headers that cannot be parsed: reml-bindgen names the file, line and column and the
offending token, at the place GCC's first error names (GCC is the oracle here)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from bindgen_support import run_tool

BROKEN = [
    "foo_t x;\n",
    "struct s { int a; mytype b; };\n",
    "int f(int a, bogus b);\n",
    "int ok(void);\nint g(void) { return 1 }\n",
    "typedef int T;\nT T2 T3;\n",
    "int a[3;\n",
    "void h(void);\nstatic inline int i(void) { x y = 1; return 0; }\n",
]


def gcc_first_error(source: str, tmp_path) -> tuple[str, int, str]:
    c = tmp_path / "probe.c"
    c.write_text(source)
    proc = subprocess.run(["gcc", "-fsyntax-only", str(c)], capture_output=True, text=True,
                          env={**os.environ, "LC_ALL": "C"})
    m = re.search(r"^(.*?):(\d+):\d+: (?:fatal )?error: (.*)$", proc.stderr, re.M)
    assert m, proc.stderr
    return m.group(1), int(m.group(2)), m.group(3)


def ours(header: str, tmp_path, capsys) -> dict:
    rc, events = run_tool(["--header", header, "--output", str(tmp_path / "o" / "x.reml"),
                           "--manifest", str(tmp_path / "o" / "m.json")], capsys)
    assert rc == 1
    d = events[-1]["diagnostics"][0]
    assert d["code"] == "ffi.bindgen.parse_failed"
    return d


@pytest.mark.parametrize("text", BROKEN)
def test_parse_errors_point_where_gcc_does(text, tmp_path, capsys):
    header = tmp_path / "bad.h"
    header.write_text(text)
    file, line, gcc_message = gcc_first_error(f'#include "{header}"\n', tmp_path)
    d = ours(str(header), tmp_path, capsys)
    assert d["location"]["file"] == file == str(header)
    assert d["location"]["line"] == line and d["location"]["column"] >= 1
    assert re.search(r"'[^']+'", d["message"]), d["message"]  # the offending token, quoted
    unknown = re.match(r"unknown type name '(\w+)'", gcc_message)
    if unknown:
        assert f"unknown type name '{unknown.group(1)}'" in d["message"]
    assert "Invalid specifier list" not in d["message"]


def test_jpeglib_alone_needs_stdio_first_as_with_any_compiler(tmp_path, capsys):
    file, line, gcc_message = gcc_first_error("#include <jpeglib.h>\n", tmp_path)
    d = ours("jpeglib.h", tmp_path, capsys)
    assert (d["location"]["file"], d["location"]["line"]) == (file, line)
    assert gcc_message.startswith("unknown type name") and gcc_message.replace("'", "") in \
        d["message"].replace("'", "")
    # with stdio.h first, as with any C compiler, it binds
    rc, events = run_tool(["--header", "stdio.h", "--header", "jpeglib.h", "--allowlist-file", r".*/j\w+\.h",
                           "--output", str(tmp_path / "o" / "x.reml"), "--manifest", str(tmp_path / "o" / "m.json"),
                           "--verify-layout"], capsys)
    assert rc == 0, events[-1]
    assert "fn jpeg_read_header(" in (tmp_path / "o" / "x.reml").read_text()


def test_stray_brace_is_located(tmp_path, capsys):
    header = tmp_path / "bad.h"
    header.write_text("struct q { int a; } }\n")
    d = ours(str(header), tmp_path, capsys)
    assert d["location"]["file"] == str(header) and d["location"]["line"] == 1
    assert "'}'" in d["message"]
