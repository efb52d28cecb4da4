"""The resolved model as `wasm-tools component wit --json` prints it."""

from __future__ import annotations

from typing import Any

from .model import Function, Model, Ty, TypeDef


def _ty(t: Ty | None) -> Any:
    return t


def _docs(out: dict, docs: str | None) -> None:
    if docs is not None:
        out["docs"] = {"contents": docs}


def _kind(kind: tuple) -> Any:
    k = kind[0]
    if k == "record":
        fields = []
        for n, t, d in kind[1]:
            f = {"name": n, "type": t}
            _docs(f, d)
            fields.append(f)
        return {"record": {"fields": fields}}
    if k == "variant":
        cases = []
        for n, t, d in kind[1]:
            c = {"name": n, "type": t}
            _docs(c, d)
            cases.append(c)
        return {"variant": {"cases": cases}}
    if k in ("enum", "flags"):
        items = []
        for n, d in kind[1]:
            c = {"name": n}
            _docs(c, d)
            items.append(c)
        return {"enum": {"cases": items}} if k == "enum" else {"flags": {"flags": items}}
    if k == "resource":
        return "resource"
    if k == "type":
        return {"type": kind[1]}
    if k == "handle":
        return {"handle": {kind[1]: kind[2]}}
    if k == "tuple":
        return {"tuple": {"types": list(kind[1])}}
    if k in ("option", "list", "future", "stream"):
        return {k: kind[1]}
    if k == "result":
        return {"result": {"ok": kind[1], "err": kind[2]}}
    if k == "map":
        return {"map": [kind[1], kind[2]]}
    if k == "fixed-length-list":
        return {"fixed-length-list": [kind[1], kind[2]]}
    raise AssertionError(k)  # pragma: no cover


def _typedef(td: TypeDef) -> dict:
    out: dict = {"name": td.name, "kind": _kind(td.kind),
                 "owner": None if td.owner is None else {td.owner[0]: td.owner[1]}}
    _docs(out, td.docs)
    if td.stability is not None:
        out["stability"] = td.stability.to_json()
    if td.external_id is not None:
        out["external_id"] = td.external_id
    return out


def function_json(fn: Function) -> dict:
    kind: Any = fn.kind
    if fn.resource is not None:
        kind = {fn.kind: fn.resource}
    out: dict = {"name": fn.name, "kind": kind,
                 "params": [{"name": n, "type": t} for n, t in fn.params]}
    if fn.result is not None:
        out["result"] = fn.result
    _docs(out, fn.docs)
    if fn.stability is not None:
        out["stability"] = fn.stability.to_json()
    if fn.external_id is not None:
        out["external_id"] = fn.external_id
    return out


def _world_items(items: dict) -> dict:
    out = {}
    for key, item in items.items():
        name = key if isinstance(key, str) else f"interface-{key[1]}"
        if item[0] == "interface":
            inner: dict = {"id": item[1]}
            if item[2] is not None:
                inner["stability"] = item[2].to_json()
            if item[4] is not None:
                inner["external_id"] = item[4]
            _docs(inner, item[3])
            out[name] = {"interface": inner}
        elif item[0] == "function":
            out[name] = {"function": function_json(item[1])}
        else:
            out[name] = {"type": item[1]}
    return out


def to_json(model: Model) -> dict:
    worlds = []
    for w in model.worlds:
        out: dict = {"name": w.name, "imports": _world_items(w.imports),
                     "exports": _world_items(w.exports), "package": w.package}
        _docs(out, w.docs)
        if w.stability is not None:
            out["stability"] = w.stability.to_json()
        worlds.append(out)
    interfaces = []
    for i in model.interfaces:
        out = {"name": i.name, "types": dict(i.types),
               "functions": {n: function_json(f) for n, f in i.functions.items()}}
        _docs(out, i.docs)
        if i.stability is not None:
            out["stability"] = i.stability.to_json()
        out["package"] = i.package
        if i.clone_of is not None:
            out["clone_of"] = i.clone_of
        interfaces.append(out)
    packages = []
    for p in model.packages:
        out = {"name": str(p.name)}
        _docs(out, p.docs)
        out["interfaces"] = dict(p.interfaces)
        out["worlds"] = dict(p.worlds)
        packages.append(out)
    return {"worlds": worlds, "interfaces": interfaces,
            "types": [_typedef(t) for t in model.types], "packages": packages}


def to_json_bytes(model: Model) -> bytes:
    """`to_json` as UTF-8 bytes, byte for byte what wasm-tools prints: two-space
    indentation, non-ASCII characters unescaped (control characters escaped as `\\u00xx`),
    no final newline.  orjson writes exactly that layout, many times faster than the json
    module's indenting encoder (which is written in Python)."""
    import orjson

    return orjson.dumps(to_json(model), option=orjson.OPT_INDENT_2)

