"""The vtable path's reader against lying tables (native/plugins/bidliar.c, built by the C
compiler) and the table layout against the C compiler's own."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reml_wasm import bid_samples, toolchain
from reml_wasm.bid import yaml_loader
from reml_wasm.connectors.plugin import default_mode
from reml_wasm.connectors.plugin.dynamic import DynamicLibraryConnector
from reml_wasm.connectors.plugin.vtable import _ENTRY, _VTABLE, vtable_symbol

ROOT = Path(__file__).resolve().parent.parent
MODES = ["abi"] + (["api"] if default_mode() == "api" else [])

# Runs every lying case in a fresh interpreter (a crash there fails the test, not pytest).
RUNNER = textwrap.dedent("""
    import json, sys
    from cffi import FFI
    from reml_wasm import bid_samples
    from reml_wasm.audit import DiagnosticError
    from reml_wasm.bid import yaml_loader
    from reml_wasm.connectors.plugin.dynamic import DynamicLibraryConnector
    directory, mode = sys.argv[1], sys.argv[2]
    out = {}
    for case in list(bid_samples.LIAR_CASES) + ["honest"]:
        doc = yaml_loader.load(bid_samples.write_liar(directory, case))
        try:
            with DynamicLibraryConnector(doc, mode=mode) as c:
                out[case] = ["ok", c.served_by("liar." + case + "#add")]
        except DiagnosticError as exc:
            out[case] = [exc.code, str(exc)]
    ffi = FFI()
    ffi.cdef("int32_t liar_call_count(void);")
    lib = ffi.dlopen(directory + "/" + bid_samples.BIDLIAR_LIB)
    out["__calls__"] = lib.liar_call_count()
    print(json.dumps(out))
""")


@pytest.mark.parametrize("mode", MODES)
def test_every_lying_vtable_is_refused_before_any_call(tmp_path, mode):
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path), mode], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out.pop("__calls__") == 0, "a lying vtable let a call reach the library"
    assert out.pop("honest") == ["ok", "vtable"]          # the same library, an honest table: served
    for case, expected in bid_samples.LIAR_CASES.items():
        code, message = out[case]
        assert code.startswith(expected), (case, code, message)
        assert "liar." + case in message or "liar" in message, (case, message)


def test_lies_about_pointers_name_the_field(tmp_path):
    doc = yaml_loader.load(bid_samples.write_liar(tmp_path, "wild_function"))
    with pytest.raises(Exception) as info:
        DynamicLibraryConnector(doc, mode="abi")
    ext = info.value.diagnostic.extensions
    assert info.value.code == "ffi.bid.vtable.pointer"
    assert ext["field"] == "function" and ext["method"] == "add" and ext["interface"] == "liar.wild_function"
    assert "0xdeadbeef000" in str(info.value)


def test_mismatch_names_both_signatures(tmp_path):
    doc = yaml_loader.load(bid_samples.write_liar(tmp_path, "wrong_types"))
    with pytest.raises(Exception) as info:
        DynamicLibraryConnector(doc, mode="abi")
    ext = info.value.diagnostic.extensions
    assert ext["declared"] == "(i32, i32) -> i32" and ext["found"] == "(i64, i64) -> i64"


def test_invoke_path_ignores_the_table(tmp_path):
    """A user who forces the invoke path never reads the table (and gets the plugin's answer)."""
    doc = yaml_loader.load(bid_samples.write_liar(tmp_path, "wild_function"))
    with DynamicLibraryConnector(doc, mode="abi", path="invoke") as c:
        assert c.served_by("liar.wild_function#add") == "invoke"
        with pytest.raises(Exception) as info:
            c.call("liar.wild_function#add", 1, 2)
        assert info.value.code == "tlv.invalid_method"


def test_layout_matches_the_c_compiler(tmp_path):
    """Offsets and sizes of InterfaceVTable and MethodEntry as the C compiler lays them out."""
    src = tmp_path / "layout.c"
    src.write_text(textwrap.dedent("""
        #include <stdio.h>
        #include <stddef.h>
        #include "nyash_bid.h"
        int main(void) {
            printf("%zu %zu %zu %zu %zu\\n", sizeof(InterfaceVTable), offsetof(InterfaceVTable, version),
                   offsetof(InterfaceVTable, interface_id), offsetof(InterfaceVTable, method_count),
                   offsetof(InterfaceVTable, methods));
            printf("%zu %zu %zu %zu %zu %zu\\n", sizeof(MethodEntry), offsetof(MethodEntry, name),
                   offsetof(MethodEntry, function), offsetof(MethodEntry, param_count),
                   offsetof(MethodEntry, param_types), offsetof(MethodEntry, return_type));
            return 0;
        }
    """))
    exe = tmp_path / "layout"
    subprocess.run([toolchain.c_compiler(), f"-I{ROOT / 'native' / 'include'}", str(src), "-o", str(exe)],
                   check=True)
    table, entry = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split("\n")[:2]
    assert [int(x) for x in table.split()] == [_VTABLE.size, 0, 4, 20, 24]
    assert [int(x) for x in entry.split()] == [_ENTRY.size, 0, 8, 16, 24, 32]


def test_symbol_names():
    assert vtable_symbol("nyash.file") == "nyash_nyash_file_vtable"
    assert vtable_symbol("env.console") == "nyash_env_console_vtable"


# --- the reader against generated tables ------------------------------------------------
# A real buffer stands for the library: the table, entries, names and type arrays are laid
# out in it, pointers are either offsets into it or arbitrary numbers (outside it).

import struct  # noqa: E402

from cffi import FFI  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from reml_wasm.audit import DiagnosticError  # noqa: E402
from reml_wasm.connectors.plugin.vtable import LibraryMemory, read_vtable  # noqa: E402

_ffi = FFI()
SIZE = 4096
CODE = (3072, 4096)          # the last kilobyte stands for the library's code


FIELDS = ("none", "version", "count", "methods", "name_ptr", "name_text", "function", "param_count",
          "types_ptr", "type_id", "return")


def _pointer(draw, base):
    kind = draw(st.sampled_from(["in", "null", "wild", "edge"]))
    if kind == "in":
        return base + draw(st.integers(0, SIZE - 1))
    if kind == "null":
        return 0
    if kind == "edge":
        return base + SIZE - draw(st.integers(0, 16))
    return draw(st.integers(1, 2**64 - 1))


@st.composite
def tables(draw):
    """A well-formed table of 1-3 entries with one field (of one entry) replaced by a
    drawn value, or none; the filler between the parts is drawn too."""
    buf = _ffi.new("char[]", SIZE)
    base = int(_ffi.cast("uintptr_t", buf))
    pattern = draw(st.binary(min_size=1, max_size=32))
    raw = bytearray((pattern * (SIZE // len(pattern) + 1))[:SIZE])
    broken, victim = draw(st.sampled_from(FIELDS)), draw(st.integers(0, 2))
    count = draw(st.integers(1, 3))
    u32 = st.integers(0, 2**32 - 1)

    def field(name, good, bad_strategy=None):
        if broken != name:
            return good
        return draw(bad_strategy) if bad_strategy is not None else _pointer(draw, base)

    table_at = draw(st.integers(0, 32)) * 8
    entries_at = 512
    struct.pack_into("<I16sIQ", raw, table_at, field("version", 1, u32), b"t" * 16, field("count", count, u32),
                     field("methods", base + entries_at))
    for i in range(3):
        mine = i == victim
        name_at, types_at = 1024 + 32 * i, 2048 + 64 * i
        text = b"m%d\0" % i
        if mine and broken == "name_text":
            text = draw(st.sampled_from([b"m0\0", b"a b\0", b"\xff\0", b"", b"x" * 31]))
        raw[name_at:name_at + len(text)] = text
        nparams = draw(st.integers(0, 4))
        struct.pack_into("<4I", raw, types_at, *(draw(st.integers(1, 8)) for _ in range(4)))
        if mine and broken == "type_id":
            struct.pack_into("<I", raw, types_at + 4 * draw(st.integers(0, 3)), draw(u32))
        struct.pack_into("<QQIxxxxQIxxxx", raw, entries_at + 40 * i,
                         field("name_ptr", base + name_at) if mine else base + name_at,
                         field("function", base + CODE[0] + 16 * i) if mine else base + CODE[0] + 16 * i,
                         field("param_count", nparams, u32) if mine else nparams,
                         field("types_ptr", base + types_at) if mine else base + types_at,
                         field("return", draw(st.integers(1, 9)), u32) if mine else 2)
    _ffi.memmove(buf, bytes(raw), SIZE)
    return buf, base, table_at


@settings(max_examples=150, deadline=None)
@given(tables())
def test_reader_answers_or_refuses_with_a_code(case):
    buf, base, table_at = case
    memory = LibraryMemory.of_ranges([(base, base + SIZE)], [(base + CODE[0], base + CODE[1])])
    try:
        table = read_vtable(memory, base + table_at, "gen.table", "generated")
    except DiagnosticError as exc:
        assert exc.code.startswith("ffi.bid.vtable."), exc.code
        return
    for slot in table.methods.values():
        assert base + CODE[0] <= slot.address < base + CODE[1]
        assert slot.name.isidentifier()
        assert all(k != "void" for k in slot.params)
