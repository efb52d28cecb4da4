import pytest

from reml_wasm import toolchain
from reml_wasm.toolchain import ToolchainError, c_symbol


@pytest.mark.parametrize("export, symbol", [
    ("greet", "greet"),
    ("parse-u32", "parse_u32"),
    ("cabi_post_parse-u32", "cabi_post_parse_u32"),
    ("reml:demo/api@0.1.0#echo-string", "api_echo_string"),
    ("reml:demo/api#[method]file.read", "api_method_file_read"),
    ("[constructor]file", "constructor_file"),
    ("cabi_post_reml:demo/api@1.2.3#get", "cabi_post_api_get"),
])
def test_c_symbol_rule(export, symbol):
    assert c_symbol(export) == symbol


def test_every_demo_export_has_its_c_symbol():
    _, native = toolchain.build_demo()
    assert not _has_symbol(native, "no_such_export")
    for name in ("greet", "sum", "reverse", "translate", "area", "find", "parse-u32",
                 "cabi_post_greet", "cabi_post_reverse", "cabi_post_parse-u32", "cabi_realloc"):
        assert _has_symbol(native, c_symbol(name)), name


def _has_symbol(path, name):
    import cffi
    ffi = cffi.FFI()
    ffi.cdef(f"void {name}(void);")
    try:
        getattr(ffi.dlopen(str(path)), name)
        return True
    except AttributeError:
        return False


def test_build_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("REML_WASM_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "g.c"
    src.write_text('#include "reml_guest.h"\nREML_EXPORT("seven") int32_t seven(void) { return 7; }\n')
    first = toolchain.build_native([src], name="g")
    stamp = first.stat().st_mtime_ns
    assert toolchain.build_native([src], name="g") == first
    assert first.stat().st_mtime_ns == stamp
    src.write_text(src.read_text() + "\n/* changed */\n")
    assert toolchain.build_native([src], name="g") != first
    # nothing half-written is left behind in the cache
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]


def test_compile_error_is_a_diagnostic(tmp_path, monkeypatch):
    monkeypatch.setenv("REML_WASM_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "bad.c"
    src.write_text("int broken( { return 0; }\n")
    with pytest.raises(ToolchainError) as exc:
        toolchain.build_core_module([src])
    assert exc.value.code == "ffi.toolchain.build_failed"
    assert "bad.c" in str(exc.value)
    with pytest.raises(ToolchainError) as exc:
        toolchain.build_native([src])
    assert exc.value.code == "ffi.toolchain.build_failed"


def test_missing_tool_is_named(monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolchainError) as exc:
        toolchain.c_compiler()
    assert exc.value.code == "ffi.toolchain.missing_tool"
    assert "C compiler" in exc.value.diagnostic.message


def test_missing_source(tmp_path):
    with pytest.raises(ToolchainError) as exc:
        toolchain.build_native([tmp_path / "nope.c"])
    assert exc.value.code == "ffi.toolchain.source_missing"
