"""The checks of `reml-plugin-tester` (reml_wasm.cli.plugin_tester parses its command line)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

from .. import tlv
from ..audit import DiagnosticError, error
from ..bid import nyash_toml
from ..connectors.plugin import PluginBox, PluginHost, PluginLibrary

_ROLES = {tlv.BIRTH_METHOD_ID: "(constructor)", tlv.FINI_METHOD_ID: "(destructor)"}


class Report:
    """What a command found: printed line by line, or kept for one JSON document (`--json`)."""

    def __init__(self, as_json: bool = False, timeout: float | None = None) -> None:
        self.failures = 0
        self.as_json = as_json
        self.timeout = timeout  # seconds a plugin call may take (None: no limit)
        self.entries: list[dict[str, Any]] = []

    def line(self, text: str = "") -> None:
        if self.as_json:
            if text:
                self.entries.append({"ok": True, "text": text})
        else:
            print(text)

    def fail(self, text: str) -> None:
        self.failures += 1
        if self.as_json:
            self.entries.append({"ok": False, "text": text})
        else:
            print(f"FAIL {text}")

    def document(self, command: str) -> dict[str, Any]:
        """The `--json` result: the command, whether it passed, and every line in order."""
        return {"command": command, "ok": self.failures == 0, "failures": self.failures,
                "lines": self.entries}


def _describe(exc: DiagnosticError) -> str:
    return f"{exc.code}: {exc.diagnostic.message}"


def _from_plugin(exc: DiagnosticError) -> bool:
    """An error the plugin answered with a return code (not garbage the host rejected)."""
    return exc.diagnostic.extensions.get("origin") == "plugin"


def load_config(path: str) -> nyash_toml.NyashConfig:
    return nyash_toml.load(path)


def _host(cfg: nyash_toml.NyashConfig, key: str, rep: Report) -> PluginHost:
    """A host over one library of `cfg`, its calls under the watchdog's timeout."""
    return PluginHost(cfg, only=[key], timeout=rep.timeout)


def _open_library(cfg: nyash_toml.NyashConfig, key: str, rep: Report) -> PluginLibrary | None:
    lib_cfg = cfg.libraries[key]
    try:
        path = cfg.resolve_library(lib_cfg)
        return PluginLibrary(key, path, timeout=rep.timeout)
    except DiagnosticError as exc:
        rep.fail(f"{key}: {_describe(exc)}")
        return None


# --- check --------------------------------------------------------------------------------

def _check_library(cfg: nyash_toml.NyashConfig, key: str, rep: Report) -> PluginLibrary | None:
    rep.line(f"Library: {key}")
    lib = _open_library(cfg, key, rep)
    if lib is None:
        return None
    rep.line(f"  path: {lib.path}")
    rep.line("  nyash_plugin_invoke: found")
    rep.line(f"  nyash_plugin_abi: {lib.abi if lib.abi is not None else 'not exported (ABI 1 assumed)'}")
    rep.line(f"  nyash_plugin_init: {'ok' if lib.exports.get('nyash_plugin_init') else 'not exported'}")
    rep.line(f"  nyash_plugin_shutdown: {'found' if lib.exports.get('nyash_plugin_shutdown') else 'not exported'}")
    for box_name in cfg.libraries[key].boxes:
        box = cfg.libraries[key].box_configs[box_name]
        extra = ", singleton" if box.singleton else ""
        rep.line(f"  {box_name} (type_id {box.type_id}, abi {box.abi_version}{extra})")
        for m in sorted(box.methods.values(), key=lambda m: m.method_id):
            role = _ROLES.get(m.method_id, "")
            args = ", ".join(a.name or a.kind or "?" for a in m.args)
            sig = f"{m.name}({args})" + (" -> result" if m.returns_result else "")
            rep.line(f"    {m.method_id:>10}  {sig:<28} {role}".rstrip())
    return lib


def cmd_check(cfg: nyash_toml.NyashConfig, rep: Report) -> None:
    for key in cfg.libraries:
        lib = _check_library(cfg, key, rep)
        if lib is not None:
            lib.close()


# --- lifecycle ----------------------------------------------------------------------------

def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes" if len(value) > 32 else repr(value)
    return repr(value)


def _lifecycle(cfg: nyash_toml.NyashConfig, host: PluginHost, box_name: str, rep: Report) -> None:
    lib_cfg, box_cfg = cfg.box(box_name)
    rep.line(f"lifecycle: {box_name} (type_id {box_cfg.type_id}) from {lib_cfg.name}")
    try:
        box = host.create(box_name)
    except DiagnosticError as exc:
        rep.fail(f"  birth: {_describe(exc)}")
        return
    how = " (singleton, born at load)" if box_cfg.singleton else ""
    rep.line(f"  birth: instance_id={box.instance_id}{how}")
    for m in sorted(box_cfg.methods.values(), key=lambda m: m.method_id):
        if m.method_id in _ROLES or m.args:
            continue
        try:
            value = box.call(m.name)
            rep.line(f"  {m.name}() -> {_show(value)}")
            if isinstance(value, PluginBox) and value is not box:
                value.finalise()
        except DiagnosticError as exc:
            if _from_plugin(exc):
                rep.line(f"  {m.name}() -> return code {exc.diagnostic.extensions.get('return_code')} ({exc.code})")
            else:
                rep.fail(f"  {m.name}(): {_describe(exc)}")
    lib = box._type.lib
    before = len(lib.fini_errors)
    if box_cfg.singleton:
        host.close()
    else:
        try:
            box.finalise()
        except DiagnosticError as exc:
            rep.fail(f"  fini: {_describe(exc)}")
            return
    if len(lib.fini_errors) > before:
        rep.fail(f"  fini: {_describe(lib.fini_errors[-1])}")
    else:
        rep.line(f"  fini: ok (instance_id={box.instance_id})")


def cmd_lifecycle(cfg: nyash_toml.NyashConfig, rep: Report, box_name: str) -> None:
    if box_name not in cfg.box_library:
        raise error("ffi.plugin.unknown_box", f"no box {box_name!r} in the configuration "
                    f"(boxes: {', '.join(cfg.box_library) or 'none'})")
    with _host(cfg, cfg.box_library[box_name], rep) as host:
        _lifecycle(cfg, host, box_name, rep)


# --- io -------------------------------------------------------------------------------------

IO_TEXT = "Hello from reml-plugin-tester: héllo wörld\n"


def cmd_io(cfg: nyash_toml.NyashConfig, rep: Report) -> None:
    if "FileBox" not in cfg.box_library:
        raise error("ffi.plugin.unknown_box", "io needs a FileBox in the configuration")
    with _host(cfg, cfg.box_library["FileBox"], rep) as host, \
            tempfile.TemporaryDirectory(prefix="reml-plugin-io-") as tmp:
        path = str(Path(tmp) / "io.txt")
        steps: list[tuple[str, Callable[[PluginBox], Any]]] = [
            (f"open({path!r}, 'w')", lambda f: f.open(path, "w")),
            ("write", lambda f: f.write(IO_TEXT)),
            ("close", lambda f: f.close()),
            (f"open({path!r}, 'r')", lambda f: f.open(path, "r")),
            ("read", lambda f: f.read()),
            ("close", lambda f: f.close()),
        ]
        with host.create("FileBox") as f:
            rep.line(f"io: FileBox instance_id={f.instance_id}")
            got = None
            for label, step in steps:
                try:
                    value = step(f)
                except DiagnosticError as exc:
                    rep.fail(f"  {label}: {_describe(exc)}")
                    return
                rep.line(f"  {label}: {'ok' if value is None else _show(value)}")
                if label == "read":
                    got = value
        expected = IO_TEXT.encode()
        if got != expected:
            rep.fail(f"  read back {got!r}, wrote {expected!r}")
        else:
            rep.line(f"  read back {len(expected)} bytes: match")
        if Path(path).read_bytes() != expected:
            rep.fail("  the file on disk differs from what was written")


# --- typecheck ------------------------------------------------------------------------------

def _typecheck_library(cfg: nyash_toml.NyashConfig, key: str, rep: Report) -> None:
    with _host(cfg, key, rep) as host:
        lib = host.libraries[key]
        for box_name in cfg.libraries[key].boxes:
            box_cfg = cfg.libraries[key].box_configs[box_name]
            rep.line(f"typecheck: {box_name} (type_id {box_cfg.type_id})")
            try:
                box = host.create(box_name) if cfg.box_library.get(box_name) == key else None
                instance_id = box.instance_id if box is not None else lib.birth(box_cfg.type_id)
            except DiagnosticError as exc:
                rep.fail(f"  birth: {_describe(exc)}")
                continue
            for m in sorted(box_cfg.methods.values(), key=lambda m: m.method_id):
                if m.method_id in _ROLES:
                    continue
                try:
                    rc, _ = lib.invoke(box_cfg.type_id, m.method_id, instance_id, tlv.EMPTY)
                except DiagnosticError as exc:
                    rep.fail(f"  {m.name} (method_id {m.method_id}): {_describe(exc)}")
                    continue
                if rc == tlv.E_INVALID_METHOD:
                    rep.fail(f"  {m.name} (method_id {m.method_id}): plugin answers invalid method (-3)")
                elif m.args and rc == 0:
                    rep.line(f"  {m.name} (method_id {m.method_id}): ok, but it accepted no arguments "
                             f"where the config lists {len(m.args)}")
                else:
                    rep.line(f"  {m.name} (method_id {m.method_id}): ok (answers {rc})")
            if box is None:
                lib.fini(box_cfg.type_id, instance_id)


def cmd_typecheck(cfg: nyash_toml.NyashConfig, rep: Report) -> None:
    for key in cfg.libraries:
        try:
            _typecheck_library(cfg, key, rep)
        except DiagnosticError as exc:
            rep.fail(f"{key}: {_describe(exc)}")


# --- validate-all ---------------------------------------------------------------------------

def cmd_validate_all(cfg: nyash_toml.NyashConfig, rep: Report) -> None:
    results = []
    for key in cfg.libraries:
        before = rep.failures
        lib = _check_library(cfg, key, rep)
        if lib is not None:
            lib.close()
            for box_name in cfg.libraries[key].boxes:
                if cfg.box_library.get(box_name) != key:
                    continue
                try:
                    with _host(cfg, key, rep) as host:
                        _lifecycle(cfg, host, box_name, rep)
                except DiagnosticError as exc:
                    rep.fail(f"{key}: {_describe(exc)}")
            try:
                _typecheck_library(cfg, key, rep)
            except DiagnosticError as exc:
                rep.fail(f"{key}: {_describe(exc)}")
        results.append((key, rep.failures == before))
    rep.line("")
    for key, ok in results:
        rep.line(f"{'OK    ' if ok else 'FAILED'} {key}")
