"""The sample BID library of native/plugins/bidfile.c (vtable and invoke for the same
functions), built with the toolchain, and a BID YAML document describing it.  Used by
tests, `reml-wasm bench plugin` and the docs' walk-through."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Sequence

from .audit import write_atomic
from .plugin_samples import PLUGIN_SOURCES, build_plugin

BIDFILE_LIB = "libnyash_bidfile.so"

BIDFILE_YAML = """\
version: 1
interfaces:
  - name: nyash.file
    box: FileBox
    type_id: 16
    transport: { type: dynamic_library, location: ./@LIB@ }
    methods:
      - name: open
        params: [ { string: path }, { string: mode } ]
        returns: handle
        effect: io
      - name: read
        params: [ { handle: file } ]
        returns: bytes
        effect: io
      - name: write
        params: [ { handle: file }, { bytes: data } ]
        returns: { i32: written }
        effect: io
      - name: close
        params: [ { handle: file } ]
        returns: void
        effect: io
  - name: nyash.math
    type_id: 17
    transport: { type: dynamic_library, location: ./@LIB@ }
    methods:
      - name: add
        params: [ { i32: a }, { i32: b } ]
        returns: i32
        effect: pure
      - name: scale
        params: [ { f64: x }, { f64: k } ]
        returns: f64
        effect: pure
      - name: length
        params: [ { string: text } ]
        returns: i64
        effect: pure
      - name: negate
        params: [ { bool: flag } ]
        returns: bool
        effect: pure
      - name: echo
        params: [ { string: text } ]
        returns: string
        effect: pure
      - name: count
        returns: i64
        effect: io
  - name: nyash.counter
    box: Counter
    type_id: 18
    transport: { type: dynamic_library, location: ./@LIB@ }
    methods:
      - name: make
        returns: handle
        effect: io
      - name: bump
        params: [ { handle: counter } ]
        returns: i32
        effect: mut
      - name: value
        params: [ { handle: counter } ]
        returns: i32
        effect: mut
"""


def build_bidfile(*, cflags: Sequence[str] = ()) -> Path:
    """Compile native/plugins/bidfile.c (cached by the toolchain)."""
    return build_plugin("bidfile", cflags=cflags)


def write_bidfile(directory: str | os.PathLike[str], *, cflags: Sequence[str] = (),
                  yaml_text: str = BIDFILE_YAML, name: str = "bidfile.bid.yaml") -> Path:
    """Copy the built library into `directory` and write the BID document beside it."""
    base = Path(directory)
    base.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(build_bidfile(cflags=cflags), base / BIDFILE_LIB)
    doc = base / name
    write_atomic(doc, yaml_text.replace("@LIB@", BIDFILE_LIB))
    return doc


# native/plugins/bidliar.c: one lying vtable per case, and the code a host must answer.
BIDLIAR_LIB = "libnyash_bidliar.so"
LIAR_CASES: dict[str, str] = {
    "version": "ffi.bid.vtable.version",
    "huge_count": "ffi.bid.vtable.count",
    "overcount": "ffi.bid.vtable.pointer",
    "null_methods": "ffi.bid.vtable.pointer",
    "wild_methods": "ffi.bid.vtable.pointer",
    "misaligned_methods": "ffi.bid.vtable.pointer",
    "null_name": "ffi.bid.vtable.pointer",
    "wild_name": "ffi.bid.vtable.pointer",
    "bad_name": "ffi.bid.vtable.name",
    "duplicate": "ffi.bid.vtable.name",
    "null_function": "ffi.bid.vtable.pointer",
    "data_function": "ffi.bid.vtable.pointer",
    "wild_function": "ffi.bid.vtable.pointer",
    "foreign_name": "ffi.bid.vtable.pointer",
    "foreign_function": "ffi.bid.vtable.pointer",
    "null_types": "ffi.bid.vtable.pointer",
    "wild_types": "ffi.bid.vtable.pointer",
    "unknown_type": "ffi.bid.vtable.type",
    "void_param": "ffi.bid.vtable.type",
    "unknown_return": "ffi.bid.vtable.type",
    "wrong_types": "ffi.bid.vtable.mismatch",
    "wrong_count": "ffi.bid.vtable.mismatch",
    "wrong_return": "ffi.bid.vtable.mismatch",
    "huge_params": "ffi.bid.vtable.count",
    "types_past_end": "ffi.bid.vtable.",          # any vtable code: what lies past the array varies
}

LIAR_YAML = """\
version: 1
interfaces:
  - name: liar.@CASE@
    type_id: 50
    transport: { type: dynamic_library, location: ./@LIB@ }
    methods:
      - name: add
        params: [ { i32: a }, { i32: b } ]
        returns: i32
        effect: pure
"""


def write_liar(directory: str | os.PathLike[str], case: str) -> Path:
    """The hostile library in `directory` and a BID document for its `case` vtable."""
    base = Path(directory)
    base.mkdir(parents=True, exist_ok=True)
    lib = base / BIDLIAR_LIB
    if not lib.exists():
        shutil.copyfile(build_plugin("bidliar"), lib)
    doc = base / f"liar_{case}.bid.yaml"
    write_atomic(doc, LIAR_YAML.replace("@CASE@", case).replace("@LIB@", BIDLIAR_LIB))
    return doc


# native/plugins/bidmath_component.c: the nyash.math interface as a component.
BIDMATH_WIT = PLUGIN_SOURCES / "bidmath.wit"
BIDMATH_INTERFACE = "nyash:bid/math"


def build_bidmath_component() -> Path:
    """The component exporting nyash:bid/math (built with the toolchain, cached)."""
    from .toolchain import build_component
    return build_component([PLUGIN_SOURCES / "bidmath_component.c"], BIDMATH_WIT, "bid-math")
