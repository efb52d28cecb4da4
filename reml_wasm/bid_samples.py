"""The sample BID library of native/plugins/bidfile.c (vtable and invoke for the same
functions), built with the toolchain, and a BID YAML document describing it.  Used by
tests, `reml-wasm bench plugin` and the docs' walk-through."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Sequence

from .audit import write_atomic
from .plugin_samples import build_plugin

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
