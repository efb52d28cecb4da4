"""Library names to files, search paths and the coded errors of resolution."""

import shutil

import pytest

from reml_wasm import toolchain
from reml_wasm.audit import DiagnosticError
from reml_wasm.connectors.native import NativeLibrary
from reml_wasm.libraries import library_file_names, resolve_library


@pytest.mark.parametrize("platform, name, expected", [
    ("linux", "m", ["libm.so"]),
    ("linux", "libfoo", ["libfoo.so"]),
    ("darwin", "z", ["libz.dylib", "libz.so"]),
    ("win32", "foo", ["foo.dll", "libfoo.dll"]),
    ("win32", "libfoo", ["libfoo.dll"]),
])
def test_platform_file_names(platform, name, expected):
    assert library_file_names(name, platform) == expected


@pytest.fixture(scope="module")
def built():
    return toolchain.build_native([toolchain.PROJECT_ROOT / "native" / "direct" / "direct.c"],
                                  include_dirs=[toolchain.PROJECT_ROOT / "native" / "direct"], name="direct")


def test_search_paths_come_first(tmp_path, built):
    shutil.copy(built, tmp_path / "libdirectcopy.so")
    found = resolve_library("directcopy", [tmp_path / "nowhere", tmp_path])
    assert found.path == (tmp_path / "libdirectcopy.so").resolve()
    lib = NativeLibrary.open("directcopy", [str(tmp_path)], mode="abi")
    assert lib.bind_c("int inc(int);")(9) == 10


def test_system_library_by_soname():
    found = resolve_library("m")
    assert found.path is None and found.soname.startswith("libm.so")


def test_missing_library_lists_what_was_tried(tmp_path):
    with pytest.raises(DiagnosticError) as exc:
        NativeLibrary.open("reml_no_such_lib", [str(tmp_path)])
    diag = exc.value.diagnostic
    assert diag.code == "ffi.library.not_found"
    assert str(tmp_path / "libreml_no_such_lib.so") in diag.extensions["searched"]
    with pytest.raises(DiagnosticError) as exc:
        NativeLibrary.open(str(tmp_path / "libgone.so"))
    assert exc.value.code == "ffi.library.not_found"


def test_unloadable_file(tmp_path):
    bogus = tmp_path / "libbogus.so"
    bogus.write_bytes(b"not an ELF file")
    with pytest.raises(DiagnosticError) as exc:
        NativeLibrary.open("bogus", [str(tmp_path)])
    assert exc.value.code == "ffi.library.load_failed"


def test_missing_free_function(built):
    with pytest.raises(DiagnosticError) as exc:
        NativeLibrary.open(str(built), free="no_such_free")
    assert exc.value.code == "ffi.symbol.not_found"
