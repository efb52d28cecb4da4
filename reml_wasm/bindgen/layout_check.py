"""`--verify-layout`: check our layout model against the system C compiler.

A probe including the real headers states, for every emitted struct and union, its
size, alignment (under its tag and under every typedef name it has) and the offset and
size of every field as computed by `layout`, each as a `_Static_assert`.  The compiler reports each failed assertion; a second probe then
asks it for the actual values (they appear in its messages), so each mismatch becomes a
diagnostic naming what we computed and what the compiler says.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..audit import Diagnostic, error
from .cmodel import CModel, StructDef, TagRef, TypedefRef
from .layout import Layouts, LayoutError
from .preprocess import C_LOCALE_ENV, cc_flags, find_cc


@dataclass(frozen=True)
class Check:
    symbol: str       # the struct as C names it
    what: str         # size, align, offset or field size
    expr: str         # C constant expression
    expected: int
    struct: StructDef


def checks_for(model: CModel, structs: Iterable[StructDef]) -> list[Check]:
    layouts = Layouts(model)
    out: list[Check] = []
    for d in structs:
        cname = model.c_name(d)
        if cname is None:
            continue  # an anonymous type: checked through the fields of its parent
        try:
            sl = layouts.struct(d)
            # named through a typedef, an `aligned` typedef may raise the alignment
            size, align = (sl.size, sl.align) if d.tag else layouts.size_align(TypedefRef(cname))
        except LayoutError:
            continue
        out.append(Check(cname, "size", f"sizeof({cname})", size, d))
        out.append(Check(cname, "align", f"_Alignof({cname})", align, d))
        for name in d.typedef_names:  # every typedef of it: an `aligned` one changes the alignment
            if name != cname:
                tsize, talign = layouts.size_align(TypedefRef(name))
                out.append(Check(name, "size", f"sizeof({name})", tsize, d))
                out.append(Check(name, "align", f"_Alignof({name})", talign, d))
        _field_checks(model, layouts, d, cname, "", 0, out, d)
    return out


def _field_checks(model: CModel, layouts: Layouts, d: StructDef, cname: str, prefix: str,
                  base: int, out: list[Check], top: StructDef) -> None:
    sl = layouts.struct(d)
    for f, fl in zip(d.fields or (), sl.fields):
        if f.bit_width is not None:
            continue  # offsetof/sizeof do not apply to bit-fields; covered by the struct size
        resolved = model.resolve(f.type)
        anonymous_tag = isinstance(resolved, TagRef) and resolved.anonymous and resolved.kind != "enum"
        if f.name is None:
            if anonymous_tag:
                _field_checks(model, layouts, model.struct(resolved), cname, prefix,  # type: ignore[arg-type]
                              base + fl.offset, out, top)
            continue
        path = prefix + f.name
        out.append(Check(cname, f"offset of {path}", f"offsetof({cname}, {path})", base + fl.offset, top))
        if not f.flexible:
            out.append(Check(cname, f"size of {path}", f"sizeof((({cname} *)0)->{path})", fl.size, top))
        if anonymous_tag and isinstance(resolved, TagRef):
            inner = model.struct(resolved)
            if inner.typedef_names or inner.tag:
                continue  # checked on its own
            _field_checks(model, layouts, inner, cname, path + ".", base + fl.offset, out, top)


_ASSERT_FAILED = re.compile(r'^<stdin>:(\d+):\d+: error: static assertion failed: "reml#(\d+)"', re.M)
_ANY_ERROR = re.compile(r"^(.*?):(\d+):(\d+): (?:fatal )?error: (.*)$", re.M)
_VALUE = re.compile(r"^<stdin>:(\d+):\d+: (?:warning|error): .*?['\u2018]char \(\*\)\[(\d+)\]", re.M)


def _probe_head(headers: Sequence[Path]) -> str:
    return "#include <stddef.h>\n" + "".join(f'#include "{h}"\n' for h in headers)


def _undefine_members(checks: Sequence[Check]) -> str:
    """`#undef` every member name the checks use: headers define some as macros for
    their users (glibc: `#define si_pid _sifields._kill.si_pid`), which would rewrite
    the paths checked here.  After the headers, this changes nothing else."""
    names: set[str] = set()
    for c in checks:
        if c.what.startswith(("offset of ", "size of ")):
            names.update(re.findall(r"[A-Za-z_]\w*", c.what.split(" of ", 1)[1]))
    names.discard("defined")  # a member may be called so; the preprocessor's operator cannot be undefined
    return "".join(f"#undef {n}\n" for n in sorted(names))


def _compile(cc: str, source: str, flags: Sequence[str]) -> subprocess.CompletedProcess:
    cmd = [cc, "-fsyntax-only", "-fmax-errors=0", "-x", "c", *flags, "-"]
    try:
        return subprocess.run(cmd, input=source, capture_output=True, text=True, timeout=120,
                              env=C_LOCALE_ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error("ffi.bindgen.generate_failed", f"layout probe could not run: {exc}") from None


def verify(model: CModel, structs: Iterable[StructDef], headers: Sequence[Path],
           include_paths: Sequence[Path], defines: Sequence[str], extra_flags: Sequence[str] = (),
           cc: str | None = None) -> tuple[int, list[Diagnostic]]:
    """(number of checks, one diagnostic per mismatch)."""
    cc = cc or find_cc()
    checks = checks_for(model, structs)
    flags = cc_flags(include_paths, defines, extra_flags)
    head = _probe_head(headers) + _undefine_members(checks)
    body = "".join(f'_Static_assert(({c.expr}) == {c.expected}, "reml#{i}");\n'
                   for i, c in enumerate(checks))
    proc = _compile(cc, head + body, flags)
    failed = sorted({int(m.group(2)) for m in _ASSERT_FAILED.finditer(proc.stderr)})
    other = [m for m in _ANY_ERROR.finditer(proc.stderr) if "static assertion failed" not in m.group(4)]
    if other or (proc.returncode != 0 and not failed):
        # the headers themselves do not compile: no layout can be trusted
        detail = other[0].group(0) if other else proc.stderr.strip()[:500]
        raise error("ffi.bindgen.generate_failed", f"layout probe did not compile: {detail}")
    if not failed:
        return len(checks), []
    actual = _actual_values(cc, head, flags, [checks[i] for i in failed])
    diags = []
    for i in failed:
        c = checks[i]
        got = actual.get(c.expr)
        said = "a different value" if got is None else str(got)
        diags.append(Diagnostic(
            "ffi.bindgen.layout_mismatch",
            f"{c.symbol}: {c.what}: bindgen computed {c.expected}, the C compiler says {said}",
            location=c.struct.location,
            extensions={"symbol": c.symbol, "check": c.what, "expected": c.expected, "actual": got}))
    return len(checks), diags


def _actual_values(cc: str, head: str, flags: Sequence[str], checks: Sequence[Check]) -> dict[str, int]:
    start = head.count("\n") + 1
    body = "".join(f"char (*__reml_probe_{i})[{c.expr}] = 1;\n" for i, c in enumerate(checks))
    proc = _compile(cc, head + body, flags)
    values: dict[str, int] = {}
    for m in _VALUE.finditer(proc.stderr):
        idx = int(m.group(1)) - start
        if 0 <= idx < len(checks):
            values[checks[idx].expr] = int(m.group(2))
    return values
