"""The sample Nyash plugins of native/plugins, built with the toolchain, and a nyash.toml
for them.  Used by tests, `reml-wasm bench plugin` and the docs' walk-through."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Sequence

from .audit import write_atomic
from .toolchain import build_native

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SOURCES = ROOT / "native" / "plugins"
PLUGIN_INCLUDE = ROOT / "native" / "include"

FILEBOX_LIB = "libnyash_filebox_plugin.so"
COUNTERBOX_LIB = "libnyash_counter_plugin.so"
PROBEBOX_LIB = "libnyash_probe_plugin.so"
HOSTILEBOX_LIB = "libnyash_hostile_plugin.so"

FILEBOX_TOML = """\
[libraries."@LIB@"]
boxes = ["FileBox"]
@PATH@
[libraries."@LIB@".FileBox]
type_id = 6
abi_version = 1
singleton = false

[libraries."@LIB@".FileBox.methods]
birth = { method_id = 0 }
open = { method_id = 1, args = ["path", "mode"] }
read = { method_id = 2 }
write = { method_id = 3, args = ["data"] }
close = { method_id = 4 }
copyFrom = { method_id = 7, args = [ { kind = "box", category = "plugin" } ] }
cloneSelf = { method_id = 8 }
fini = { method_id = 4294967295 }
"""

COUNTERBOX_TOML = """\
[libraries."@LIB@"]
boxes = ["CounterBox"]
@PATH@
[libraries."@LIB@".CounterBox]
type_id = 7
singleton = true

[libraries."@LIB@".CounterBox.methods]
birth = { method_id = 0 }
inc = { method_id = 1 }
get = { method_id = 2 }
fini = { method_id = 4294967295 }
"""

# ProbeBox (native/plugins/probebox.c): misbehaving methods for the robustness tests.
PROBE_METHODS = {
    "wrong_size": 1, "unknown_tag": 2, "past_end": 3, "lying_length": 4, "bad_version": 5,
    "bad_utf8": 6, "short_argc": 7, "always_short": 8, "huge": 9, "odd_code": 10, "trailing": 11,
    "short_no_growth": 12, "tiny": 13, "reserved_tag": 14, "empty_ok": 15, "self_handle": 20, "new_handle": 21,
    "fini_count": 30, "birth_count": 31, "validate": 43,
}

PROBEBOX_TOML = """\
[libraries."@LIB@"]
boxes = ["ProbeBox", "ShortBirthBox", "ZeroBirthBox"]
@PATH@
[libraries."@LIB@".ShortBirthBox]
type_id = 98

[libraries."@LIB@".ZeroBirthBox]
type_id = 97

[libraries."@LIB@".ProbeBox]
type_id = 99

[libraries."@LIB@".ProbeBox.methods]
birth = { method_id = 0 }
fini = { method_id = 4294967295 }
echo = { method_id = 40, args = ["a", "b"] }
blob = { method_id = 41, args = [ { name = "n", kind = "i32" } ] }
fails = { method_id = 42, returns_result = true }
counted = { method_id = 31, returns_result = true }
fails_plain = { method_id = 42 }
""" + "".join(f"{name} = {{ method_id = {mid} }}\n" for name, mid in PROBE_METHODS.items())

# HostileBox (native/plugins/hostilebox.c): a plugin that scribbles on its arguments,
# repeats instance ids, answers NUL in strings and blocks, for the robustness tests.
HOSTILEBOX_TOML = """\
[libraries."@LIB@"]
boxes = ["HostileBox"]
@PATH@
[libraries."@LIB@".HostileBox]
type_id = 90

[libraries."@LIB@".HostileBox.methods]
birth = { method_id = 0 }
scribble = { method_id = 1, args = [ { name = "s", kind = "string" } ] }
scribble_nothing = { method_id = 1 }
nul = { method_id = 2 }
block = { method_id = 3, args = [ { name = "ms", kind = "i32" } ] }
fini_count = { method_id = 4 }
hang = { method_id = 5 }
fini = { method_id = 4294967295 }
"""

SAMPLES: dict[str, tuple[str, str]] = {
    "filebox": (FILEBOX_LIB, FILEBOX_TOML),
    "counterbox": (COUNTERBOX_LIB, COUNTERBOX_TOML),
    "probebox": (PROBEBOX_LIB, PROBEBOX_TOML),
    "hostilebox": (HOSTILEBOX_LIB, HOSTILEBOX_TOML),
}


def build_plugin(sample: str, *, cflags: Sequence[str] = ()) -> Path:
    """Compile native/plugins/<sample>.c into a shared library (cached by the toolchain)."""
    return build_native([PLUGIN_SOURCES / f"{sample}.c"], cflags=["-std=c99", "-Wall", "-Wextra", *cflags],
                        include_dirs=[PLUGIN_INCLUDE], name=f"nyash_{sample}")


def write_config(directory: str | os.PathLike[str], samples: Sequence[str] = ("filebox", "counterbox"),
                 *, with_paths: bool = False, cflags: dict[str, Sequence[str]] | None = None) -> Path:
    """Build `samples`, copy each library into `directory`/plugins/<sample>/target/release
    under its Nyash name, and write `directory`/nyash.toml.  Without `with_paths` the
    libraries are found through `plugin_paths.search_paths` (a glob); with it, each library
    has an explicit relative `path`."""
    base = Path(directory)
    parts = []
    for sample in samples:
        lib_name, toml = SAMPLES[sample]
        built = build_plugin(sample, cflags=(cflags or {}).get(sample, ()))
        release = base / "plugins" / sample / "target" / "release"
        release.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, release / lib_name)
        path_line = f'path = "./plugins/{sample}/target/release/{lib_name}"\n' if with_paths else ""
        parts.append(toml.replace("@LIB@", lib_name).replace("@PATH@", path_line))
    parts.append('[plugin_paths]\nsearch_paths = ["./target/release", "./plugins/*/target/release"]\n')
    config = base / "nyash.toml"
    write_atomic(config, "\n".join(parts))
    return config
