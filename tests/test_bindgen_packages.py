"""reml-bindgen --verify-layout over every header of the Debian -dev packages the
project's set-up installs (scripts/dev-packages.txt), the C library's own included.

The header set comes from the packages as installed (`dpkg -L`), not from a list kept
here.  A header is in the set when the C compiler takes it on its own (`#include` it
alone and compile: one compiler run checks them all); each library's headers are then
bound together in one reml-bindgen run, which must succeed.  Independently of
reml-bindgen's own layout check, one probe program per library, compiled and run,
prints sizeof, _Alignof and offsetof of every emitted record, under its tag and every
typedef name, and of every named field (anonymous members included); each value must
equal the layout model's."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bindgen_support import ROOT

from reml_wasm.bindgen import config as bconfig
from reml_wasm.bindgen.cmodel import CModel, StructDef, TagRef, TypedefRef
from reml_wasm.bindgen.generate import generate
from reml_wasm.bindgen.layout import Layouts, LayoutError

PACKAGES_FILE = ROOT / "scripts" / "dev-packages.txt"
MINIMUM_LIBRARIES = 20


def packages() -> list[str]:
    lines = PACKAGES_FILE.read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


# what a library's headers need from the user besides include paths (its documentation says so)
DEFINES = {"libpcre2-dev": ["PCRE2_CODE_UNIT_WIDTH=8"]}
PRELUDE = "stdio.h"  # headers that use FILE / size_t without including them (jpeglib.h)


@dataclass
class Library:
    package: str
    headers: list[str]        # every header the package installs
    include_paths: list[str]  # from its pkg-config files
    defines: list[str]

    @property
    def flags(self) -> list[str]:
        return [f"-I{d}" for d in self.include_paths] + [f"-D{d}" for d in self.defines]


def library(pkg: str) -> Library:
    """A package's headers and pkg-config flags, as installed (`gcc`, `pkgconf` have no headers)."""
    proc = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True)
    assert proc.returncode == 0, f"{pkg} is not installed (scripts/dev-packages.txt): {proc.stderr}"
    files = proc.stdout.splitlines()
    incs: list[str] = []
    for pc in (f for f in files if f.endswith(".pc")):
        flags = subprocess.run(["pkg-config", "--cflags-only-I", Path(pc).stem], capture_output=True,
                               text=True).stdout.split()
        incs += [f[2:] for f in flags if f.startswith("-I") and f[2:] not in incs]
    headers = sorted(p for p in files if p.startswith("/usr/include/") and p.endswith(".h") and Path(p).is_file())
    return Library(pkg, headers, incs, DEFINES.get(pkg, []))


def compiles_alone(headers: list[str], flags: list[str], tmp: Path, prefix: str = "") -> set[str]:
    """The headers the C compiler takes on their own, after `prefix` (one compiler run)."""
    if not headers:
        return set()
    sources = []
    for i, h in enumerate(headers):
        c = tmp / f"alone{i}.c"
        c.write_text(f'{prefix}#include "{h}"\n')
        sources.append(c)
    proc = subprocess.run(["gcc", "-fsyntax-only", "-w", *flags, *map(str, sources)],
                          capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    bad = set()
    current = None  # gcc names the source in every message chain ("In file included from …")
    for line in proc.stderr.splitlines():
        m = re.search(r"alone(\d+)\.c", line)
        if m:
            current = int(m.group(1))
        if current is not None and re.search(r"\berror\b", line):
            bad.add(current)
    return {h for i, h in enumerate(headers) if i not in bad}


def compile_together(headers: list[str], flags: list[str], tmp: Path) -> bool:
    c = tmp / "together.c"
    c.write_text("".join(f'#include "{h}"\n' for h in headers))
    return subprocess.run(["gcc", "-fsyntax-only", "-w", *flags, str(c)], capture_output=True).returncode == 0


@dataclass
class Probe:
    expr: str
    expected: int


def probes(model: CModel, structs: list[StructDef]) -> list[Probe]:
    layouts = Layouts(model)
    out: list[Probe] = []
    for d in structs:
        names = ([f"{d.kind} {d.tag}"] if d.tag else []) + list(d.typedef_names)
        if not names:
            continue
        try:
            sl = layouts.struct(d)
        except LayoutError:
            continue
        for n in names:
            size, align = (sl.size, sl.align) if n.startswith(("struct ", "union ")) else \
                layouts.size_align(TypedefRef(n))
            out += [Probe(f"sizeof({n})", size), Probe(f"_Alignof({n})", align)]
        _fields(model, layouts, d, names[0], "", 0, out)
    return out


def _fields(model: CModel, layouts: Layouts, d: StructDef, cname: str, prefix: str, base: int,
            out: list[Probe]) -> None:
    for f, fl in zip(d.fields or (), layouts.struct(d).fields):
        if f.bit_width is not None:
            continue
        r = model.resolve(f.type)
        if f.name is None:
            if isinstance(r, TagRef) and r.kind != "enum":
                _fields(model, layouts, model.struct(r), cname, prefix, base + fl.offset, out)
            continue
        out.append(Probe(f"offsetof({cname}, {prefix}{f.name})", base + fl.offset))


def compiler_values(headers: list[str], flags: list[str], exprs: list[str], tmp: Path, name: str) -> list[int]:
    """Compile and run one program printing each expression's value."""
    src = tmp / f"{name}_probe.c"
    members = sorted({n for e in exprs if e.startswith("offsetof(")
                      for n in re.findall(r"[A-Za-z_]\w*", e.split(",", 1)[1])} - {"defined"})
    lines = ["#include <stdio.h>", "#include <stddef.h>", *(f'#include "{h}"' for h in headers),
             *(f"#undef {n}" for n in members),  # member names some headers define as macros
             "int main(void) {"]
    lines += [f'  printf("%zu\\n", (size_t)({e}));' for e in exprs]
    lines += ["  return 0;", "}"]
    src.write_text("\n".join(lines) + "\n")
    exe = tmp / f"{name}_probe"
    subprocess.run(["gcc", "-w", *flags, "-o", str(exe), str(src)], check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
    return [int(v) for v in out]


def bind(lib: Library, headers: list[str], tmp: Path, name: str, allow_own_files: bool = False) -> dict:
    """One reml-bindgen run (--verify-layout) and the independent probe of what it emitted."""
    out = tmp / name
    extra = {"defines": lib.defines}
    if allow_own_files:  # a prelude header is named too: bind only the library's own files
        extra["allowlist_file"] = ["|".join(re.escape(os.path.realpath(h)) for h in lib.headers)]
    cfg = bconfig.load(str(_config(out, headers, lib.include_paths, extra)), {})
    with contextlib.redirect_stdout(io.StringIO()):
        result = generate(cfg, verify_layout=True, write=False)
    assert result.layout_checks is not None
    by_value_arrays = [(fp.func.name, n) for fp in result.plan.functions for n, t in fp.params if t.startswith("[")]
    assert not by_value_arrays, by_value_arrays[:5]  # array parameters decay to pointers
    consts = re.findall(r"^pub const (\w+):", result.reml, re.M)
    assert len(consts) == len(set(consts)), sorted({c for c in consts if consts.count(c) > 1})[:5]
    if not allow_own_files and lib.package != "libc6-dev":
        # the package's headers the run read (they declare a type) are its own: all bound
        seen = {os.path.realpath(loc.file) for loc in _type_locations(result.model)}
        own = {os.path.realpath(h) for h in lib.headers}
        assert (seen & own) <= result.target_files, (lib.package, sorted((seen & own) - result.target_files)[:5])
    structs = [r.struct for r in result.plan.records]
    checks = probes(result.model, structs)
    got = compiler_values(headers, lib.flags, [c.expr for c in checks], tmp, name)
    wrong = [(c.expr, c.expected, v) for c, v in zip(checks, got) if c.expected != v]
    assert len(got) == len(checks) and not wrong, (lib.package, wrong[:5])
    return {"functions": len(result.plan.functions), "records": len(structs), "probed": len(checks)}


def test_every_header_of_the_dev_packages_binds_with_verified_layouts(tmp_path):
    libraries = [lib for lib in map(library, packages()) if lib.headers]
    assert len(libraries) >= MINIMUM_LIBRARIES + 1, [lib.package for lib in libraries]
    assert "libc6-dev" in [lib.package for lib in libraries]  # the system headers themselves
    summary = {}
    for lib in libraries:
        name = lib.package.replace("-", "_").replace(".", "_")
        alone = compiles_alone(lib.headers, lib.flags, tmp_path)
        after_prelude = compiles_alone([h for h in lib.headers if h not in alone], lib.flags, tmp_path,
                                       f"#include <{PRELUDE}>\n")
        chosen = [h for h in lib.headers if h in alone or h in after_prelude]
        assert chosen, f"{lib.package}: no header compiles"
        prelude = [PRELUDE] if after_prelude else []
        runs = []
        if compile_together(prelude + chosen, lib.flags, tmp_path):
            runs.append(bind(lib, prelude + chosen, tmp_path, name, allow_own_files=bool(prelude)))
        else:  # headers that exclude each other (mpf2mpfr.h and mpfr.h): one run each
            runs += [bind(lib, prelude + [h], tmp_path, f"{name}_{i}", allow_own_files=bool(prelude))
                     for i, h in enumerate(chosen)]
        summary[lib.package] = {"headers": len(lib.headers), "compile": len(chosen), "runs": len(runs),
                                **{k: sum(r[k] for r in runs) for k in ("functions", "records", "probed")}}
    print(json.dumps(summary))
    assert sum(s["functions"] for s in summary.values()) > 5000


def _type_locations(model: CModel):
    for d in model.tags.values():
        if d.location is not None and d.location.file and not d.location.file.startswith("<"):
            yield d.location
    for td in model.typedefs.values():
        if td.location is not None and td.location.file and not td.location.file.startswith("<"):
            yield td.location


def _config(out: Path, headers: list[str], include_paths: list[str], extra: dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    cfg = out / "reml-bindgen.toml"
    lines = [f"headers = {json.dumps(headers)}", f"include_paths = {json.dumps(include_paths)}",
             'output = "x.reml"', 'manifest = "bindings.manifest.json"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items() if v]
    cfg.write_text("\n".join(lines) + "\n")
    return cfg
