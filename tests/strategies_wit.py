"""Hypothesis strategies that generate valid WIT text: packages with interfaces (every
kind of type definition, resources with constructors/methods/statics, `use`, gates,
docs) and worlds (imports/exports of interfaces and functions, world types, `include`).

`wit_packages()` draws the text of one file; `wit_types(scope)` draws type expressions.
Every generated file is valid by construction: names are unique per scope, types only
refer to names defined before them, `borrow<T>` only appears in parameters.
"""

from __future__ import annotations

from hypothesis import strategies as st

PRIMITIVES = ["bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64",
              "char", "string"]
WORDS = ["alpha", "beta", "gamma", "delta", "item", "value", "point", "data", "node", "x",
         "y2", "list", "type", "record", "result", "flags", "own", "use", "world", "ABC", "get"]
KEYWORDS = {"list", "type", "record", "result", "flags", "own", "use", "world"}

identifiers = st.builds(lambda a, b: a if b is None else f"{a}-{b}", st.sampled_from(WORDS),
                        st.none() | st.sampled_from(["one", "two", "v2", "x"]))


def esc(name: str) -> str:
    return "%" + name if name in KEYWORDS else name


def unique_names(min_size: int = 0, max_size: int = 5):
    return st.lists(identifiers, min_size=min_size, max_size=max_size, unique=True)


docs = st.none() | st.lists(st.sampled_from(["Some docs.", "", "  indented", "More: `x`."]),
                            min_size=1, max_size=2)


def doc_text(lines, indent: str) -> str:
    if lines is None:
        return ""
    return "".join(f"{indent}///{' ' + line if line else ''}\n" for line in lines)


def wit_types(scope: dict, resources: list[str], params: bool = False, depth: int = 3):
    """Type expressions over `scope` (names usable as value types) and `resources`."""
    leaves = [st.sampled_from(PRIMITIVES)]
    if scope:
        leaves.append(st.sampled_from(sorted(scope)).map(esc))
    if resources:
        leaves.append(st.sampled_from(resources).map(lambda r: f"own<{esc(r)}>"))
        if params:
            leaves.append(st.sampled_from(resources).map(lambda r: f"borrow<{esc(r)}>"))
    base = st.one_of(*leaves)

    def extend(inner):
        return st.one_of(
            inner.map(lambda t: f"list<{t}>"),
            st.tuples(inner, st.integers(1, 8)).map(lambda p: f"list<{p[0]}, {p[1]}>"),
            inner.map(lambda t: f"option<{t}>"),
            st.just("result"),
            inner.map(lambda t: f"result<{t}>"),
            inner.map(lambda t: f"result<_, {t}>"),
            st.tuples(inner, inner).map(lambda p: f"result<{p[0]}, {p[1]}>"),
            st.lists(inner, min_size=1, max_size=3).map(lambda ts: f"tuple<{', '.join(ts)}>"),
            st.tuples(st.sampled_from(["string", "u32", "s64"]), inner).map(lambda p: f"map<{p[0]}, {p[1]}>"),
            inner.map(lambda t: f"stream<{t}>"),
            inner.map(lambda t: f"future<{t}>"),
            st.sampled_from(["stream", "future", "error-context"]),
        )

    return st.recursive(base, extend, max_leaves=depth + 2)


@st.composite
def function(draw, name: str, scope: dict, resources: list[str], indent: str, prefix: str = "") -> str:
    pnames = draw(unique_names(0, 3))
    params = ", ".join(f"{esc(p)}: {draw(wit_types(scope, resources, params=True))}" for p in pnames)
    result = draw(st.none() | wit_types(scope, resources))
    is_async = draw(st.booleans())
    text = f"{indent}{prefix}{esc(name)}: {'async ' if is_async else ''}func({params})"
    if result is not None:
        text += f" -> {result}"
    return text + ";\n"


@st.composite
def gate(draw, version: str | None, features: list[str], indent: str) -> str:
    choice = draw(st.sampled_from(["none", "none", "since", "unstable"]))
    if choice == "since" and version is not None:
        text = f"{indent}@since(version = {version})\n"
    elif choice == "unstable":
        text = f"{indent}@unstable(feature = {draw(st.sampled_from(features))})\n"
    else:
        return ""
    if draw(st.booleans()) and version is not None:
        text += f"{indent}@deprecated(version = {version})\n"
    return text


@st.composite
def type_definitions(draw, scope: dict, resources: list[str], taken: set, indent: str,
                     version, features, gates: bool = True) -> str:
    """Record/variant/enum/flags/resource/alias definitions, each added to `scope`."""
    out = []
    for name in draw(unique_names(0, 5)):
        if name in taken:
            continue
        kind = draw(st.sampled_from(["record", "variant", "enum", "flags", "resource", "alias"]))
        head = doc_text(draw(docs), indent) + (draw(gate(version, features, indent)) if gates else "")
        if "@unstable" in head:
            # wit-parser shares anonymous types between a gated-out definition and live
            # items and then rejects the live ones; keep generated files clear of that
            head = doc_text(draw(docs), indent)
        inner = indent + "  "
        if kind == "resource":
            members = []
            rscope = dict(scope)
            if draw(st.booleans()):
                pn = draw(unique_names(0, 2))
                members.append(f"{inner}constructor("
                               + ", ".join(f"{esc(p)}: {draw(wit_types(rscope, resources + [name], True))}"
                                           for p in pn) + ");\n")
            for m in draw(unique_names(0, 3)):
                if m == name:
                    continue
                static = draw(st.booleans())
                members.append(draw(function(m, rscope, resources + [name], inner,
                                             "")).replace(": ", ": static ", 1) if static else
                               draw(function(m, rscope, resources + [name], inner)))
            body = ";\n" if not members else " {\n" + "".join(members) + indent + "}\n"
            out.append(f"{head}{indent}resource {esc(name)}{body}")
            resources.append(name)
        elif kind in ("record", "variant"):
            fields = draw(unique_names(1, 4))
            lines = []
            for f in fields:
                if kind == "record":
                    lines.append(f"{inner}{esc(f)}: {draw(wit_types(scope, resources))},\n")
                else:
                    t = draw(st.none() | wit_types(scope, resources))
                    lines.append(f"{inner}{esc(f)}{'' if t is None else '(' + t + ')'},\n")
            out.append(f"{head}{indent}{kind} {esc(name)} {{\n{''.join(lines)}{indent}}}\n")
        elif kind in ("enum", "flags"):
            cases = draw(unique_names(1, 4))
            body = "".join(f"{inner}{esc(c)},\n" for c in cases)
            out.append(f"{head}{indent}{kind} {esc(name)} {{\n{body}{indent}}}\n")
        else:
            out.append(f"{head}{indent}type {esc(name)} = {draw(wit_types(scope, resources))};\n")
        if kind != "resource" and not head.count("@unstable"):
            scope[name] = kind
        elif kind == "resource" and head.count("@unstable"):
            resources.remove(name)
        taken.add(name)
    return "".join(out)


@st.composite
def wit_packages(draw) -> str:
    """The text of a WIT file with one package, several interfaces and worlds."""
    version = draw(st.none() | st.sampled_from(["1.0.0", "0.2.1"]))
    features = ["fancy", "beta"]
    pkg = f"gen:pkg{draw(st.integers(0, 9))}" + ("" if version is None else f"@{version}")
    text = doc_text(draw(docs), "") + f"package {pkg};\n\n"
    iface_names = draw(unique_names(1, 3))
    exported_types: dict[str, dict] = {}
    for iname in iface_names:
        scope: dict = {}
        resources: list[str] = []
        taken: set = set()
        body = ""
        # use types from an earlier interface
        earlier = [n for n in exported_types if exported_types[n]]
        if earlier and draw(st.booleans()):
            src = draw(st.sampled_from(earlier))
            names = draw(st.lists(st.sampled_from(sorted(exported_types[src])), min_size=1, max_size=2,
                                  unique=True))
            items = []
            for n in names:
                alias = n if draw(st.booleans()) else n + "-alias"
                if alias in taken:
                    continue
                items.append(esc(n) if alias == n else f"{esc(n)} as {esc(alias)}")
                scope[alias] = "use"
                taken.add(alias)
            if items:
                body += f"  use {esc(src)}.{{{', '.join(items)}}};\n"
        body += draw(type_definitions(scope, resources, taken, "  ", version, features))
        for fname in draw(unique_names(0, 3)):
            if fname in taken:
                continue
            taken.add(fname)
            body += doc_text(draw(docs), "  ") + draw(gate(version, features, "  "))
            body += draw(function(fname, scope, resources, "  "))
        head = doc_text(draw(docs), "") + draw(gate(version, features, ""))
        if "@unstable" in head:
            head = doc_text(draw(docs), "")  # keep interfaces reachable from worlds
        text += f"{head}interface {esc(iname)} {{\n{body}}}\n\n"
        exported_types[iname] = {n: k for n, k in scope.items() if k != "use"}
    worlds: list[str] = []
    for wname in draw(unique_names(1, 3)):
        if wname in iface_names:
            continue
        body = ""
        keys: set = set()
        scope: dict = {}
        resources: list[str] = []
        for iname in draw(st.lists(st.sampled_from(iface_names), max_size=3, unique=True)):
            direction = draw(st.sampled_from(["import", "export"]))
            body += f"  {direction} {esc(iname)};\n"
        if worlds and draw(st.booleans()):
            body += f"  include {esc(draw(st.sampled_from(worlds)))};\n"
            keys.add("*")
        else:
            # (wasm-tools rejects a world type whose feature is off, so none are gated)
            body += draw(type_definitions(scope, resources, keys, "  ", version, [], False))
        for fname in draw(unique_names(0, 3)):
            if fname in keys or "*" in keys:
                continue
            keys.add(fname)
            direction = draw(st.sampled_from(["import", "export"]))
            body += doc_text(draw(docs), "  ")
            body += draw(function(fname, scope, resources, "  ", f"{direction} "))
        if "*" not in keys and draw(st.booleans()):
            body += f"  import inline-{len(worlds)}: interface {{\n    f: func();\n  }}\n"
        text += f"world {esc(wname)} {{\n{body}}}\n\n"
        worlds.append(wname)
    return text
