"""Components built by toolchains others ship, on both paths with WASI granted: C on
wasi-libc (zig, adapted to preview 2 by jco's adapter), Python (componentize-py) and
JavaScript (componentize-js), all implementing wit/wasi-real/real.wit.  The fast path
serves them (no fallback warning) and gives exactly the reference path's results and
errors on every export, for hypothesis-made arguments, well-typed and ill-typed."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reml_wasm import cabi, toolchain
from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.benchmarks.component import build_ctest
from reml_wasm.connectors.component import Component, Sandbox, WasiConfig
from reml_wasm.values import Record, Variant

from strategies import same_value, typed_values, values_of

ROOT = toolchain.PROJECT_ROOT
WIT = ROOT / "wit" / "wasi-real"
API = "reml:real/api@0.1.0"
BUILDERS = {
    "c": lambda: toolchain.build_wasi_component([ROOT / "native/wasi-real/real.c"], WIT, "real"),
    "python": lambda: toolchain.build_python_component(ROOT / "native/wasi-real/py", "app", WIT, "real"),
    "js": lambda: toolchain.build_js_component(ROOT / "native/wasi-real/js/app.js", WIT, "real"),
}
SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def real(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    (data / "hello.txt").write_text("hello from the host\n")
    comp = Component.from_file(BUILDERS[request.param]())
    return request.param, comp, data


class Pair:
    """A fast-path and a reference-path instance of one component with one WASI grant;
    made again after a trap (a trap poisons an instance on both paths)."""

    def __init__(self, comp: Component, data) -> None:
        self.comp, self.data = comp, data
        self.err = {"fast": bytearray(), "wasmtime": bytearray()}
        self.fresh()

    def fresh(self) -> None:
        self.insts = {}
        for path in ("fast", "wasmtime"):
            config = WasiConfig(args=["real"], env={"GREETING": "hi", "EMPTY": ""},
                                dirs=[(str(self.data), "/data", "ro")], stderr=self.err[path].extend)
            inst = self.comp.instantiate(sandbox=Sandbox(wasi=config), path=path)
            assert inst.path == path and inst.diagnostics == []  # no fallback, no warning
            self.insts[path] = inst

    def call(self, name: str, *args):
        """(outcome on the fast path, outcome on the reference path): ("ok", value) or
        ("error", code, message)."""
        out = {}
        for path, inst in self.insts.items():
            try:
                out[path] = ("ok", inst.call(f"api#{name}", *args))
            except DiagnosticError as exc:
                out[path] = ("error", exc.code, exc.diagnostic.message)
        if any(o[0] == "error" and o[1] == "cabi.trap" for o in out.values()):
            self.fresh()
        return out["fast"], out["wasmtime"]


@pytest.fixture(scope="module")
def pair(real):
    _, comp, data = real
    return Pair(comp, data)


def _same(a, b) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "ok":
        return same_value(a[1], b[1])
    return a[1:] == b[1:]


def _params(comp: Component, name: str) -> list[t.Type]:
    return comp.resolve(f"api#{name}")[2].param_types()


EXPORTS = ["widen8", "widen16", "sum", "greet", "bump", "flip", "measure", "env-var", "read-file"]


def test_every_export_is_served_by_the_fast_path(real, pair):
    _, comp, _ = real
    assert sorted(f.name for f in comp.world.export(API).interface.all_functions()) == sorted(EXPORTS)
    assert [d for d in comp.diagnostics if d.code == "ffi.component.fast_path_unavailable"] == []


@SETTINGS
@given(data=st.data())
@pytest.mark.parametrize("name", EXPORTS)
def test_same_results_on_both_paths(real, pair, name, data):
    """Hypothesis-made arguments of each export's own types: identical outcomes."""
    params = _params(real[1], name)
    args = [data.draw(values_of(p, max_list=20)) for p in params]
    fast, ref = pair.call(name, *args)
    assert _same(fast, ref), (args, fast, ref)


@SETTINGS
@given(data=st.data())
@pytest.mark.parametrize("name", EXPORTS)
def test_same_acceptance_and_messages_for_ill_typed_arguments(real, pair, name, data):
    """A value of some other type for one parameter: both paths accept it (with the same
    result) or refuse it with the same code and message."""
    params = _params(real[1], name)
    args = [data.draw(values_of(p, max_list=5)) for p in params]
    i = data.draw(st.integers(0, len(params) - 1))
    _, args[i] = data.draw(typed_values(max_depth=2))
    fast, ref = pair.call(name, *args)
    assert _same(fast, ref), (args, fast, ref)


def test_narrow_signed_parameters_arrive_sign_extended(pair):
    """-1 as s8 must reach the guest as -1 (the C guest traps on 255)."""
    for name, value in (("widen8", -1), ("widen8", -128), ("widen16", -1), ("widen16", -32768)):
        fast, ref = pair.call(name, value)
        assert fast == ref == ("ok", value)


def test_bool_in_a_list_of_numbers_is_refused_alike(pair):
    fast, ref = pair.call("sum", [1, True])
    assert fast == ref == ("error", "ffi.value.type_mismatch", "arg 1 [1]: expected u32, got bool True")
    fast, ref = pair.call("sum", [1, "2"])
    assert fast == ref == ("error", "ffi.value.type_mismatch", "arg 1 [1]: expected u32, got str")


def test_a_record_field_named_fields(pair):
    value = Record(fields=7, total=-(2**63), label="x")
    fast, ref = pair.call("bump", value)
    assert fast == ref == ("ok", Record(fields=8, total=-(2**63), label="x!"))
    assert fast[1].asdict()["fields"] == 8
    assert json.dumps(fast[1].asdict()) == '{"fields": 8, "total": -9223372036854775808, "label": "x!"}'


def test_wasi_environment_and_granted_files(real, pair):
    lang = real[0]
    env = pair.call("env-var", "GREETING")
    hello = pair.call("read-file", "/data/hello.txt")
    if lang == "js":  # the JavaScript guest's world imports neither
        assert env == (("ok", None),) * 2 and hello[0] == hello[1] == ("ok", cabi_err("cannot open"))
        return
    assert env == (("ok", "hi"),) * 2
    assert pair.call("env-var", "HOME") == (("ok", None),) * 2  # the host's environment stays out
    assert hello[0] == hello[1] == ("ok", cabi_ok("hello from the host\n"))
    for outside in ("/data/../hello.txt", "/etc/passwd", "hello.txt", "/data/missing"):
        assert pair.call("read-file", outside) == (("ok", cabi_err("cannot open")),) * 2, outside


def cabi_ok(v):
    from reml_wasm.values import Ok
    return Ok(v)


def cabi_err(v):
    from reml_wasm.values import Err
    return Err(v)


def test_guest_stderr_is_captured(real, pair):
    pair.err["fast"].clear()
    pair.err["wasmtime"].clear()
    pair.call("greet", "you")
    pair.call("env-var", "X")
    assert bytes(pair.err["fast"]) == bytes(pair.err["wasmtime"])
    if real[0] == "c":
        assert bytes(pair.err["fast"]) == b"greeted 3 bytes\n"
    if real[0] == "js":
        assert bytes(pair.err["fast"]).strip() == b"env-var X"


def test_without_wasi_the_same_instantiation_error_on_both_paths(real):
    _, comp, _ = real
    outcomes = []
    for path in ("fast", "wasmtime"):
        try:
            inst = comp.instantiate(path=path)
            outcomes.append(("ok", inst.call("api#sum", [1, 2])))
        except DiagnosticError as exc:
            outcomes.append((exc.code, exc.diagnostic.message))
    assert outcomes[0] == outcomes[1]


def test_wasi_http_imports_are_present_and_deny(real, pair):
    """componentize-js imports wasi:http: such a component instantiates (above) and its
    outgoing requests are refused."""
    _, comp, _ = real
    keys = [i.key for i in comp.world.imports]
    if real[0] == "js":
        assert any(k.startswith("wasi:http/") for k in keys)


# --- host results are checked on both paths (the ctest guest calls back into Python) ------

HOST = "reml:ctest/host@0.1.0"


@pytest.mark.parametrize("bad, expected", [
    ([2**32], "reml:ctest/host@0.1.0#scale: result[0]: expected u32 in [0, 4294967295], got int 4294967296"),
    ([-1], "reml:ctest/host@0.1.0#scale: result[0]: expected u32 in [0, 4294967295], got int -1"),
    ([True], "reml:ctest/host@0.1.0#scale: result[0]: expected u32, got bool True"),
    ("nope", "reml:ctest/host@0.1.0#scale: result: expected list<u32>, got str"),
])
def test_bad_host_results_are_refused_alike(bad, expected):
    comp = Component.from_file(build_ctest())
    for path in ("fast", "wasmtime"):
        inst = comp.instantiate({HOST: {"log": print, "scale": lambda v, by: bad}}, path=path)
        with pytest.raises(DiagnosticError) as exc:
            inst.call("call-scale", [1], 2)
        assert (exc.value.code, exc.value.diagnostic.message) == ("ffi.value.type_mismatch", expected), path


def test_lifted_number_lists_are_python_lists():
    comp = Component.from_file(build_ctest())
    for path in ("fast", "wasmtime"):
        out = comp.instantiate(path=path).call("echo-list", [1, 2, 3])
        assert isinstance(out, list) and out == [1, 2, 3] and json.dumps(out) == "[1, 2, 3]"


def test_variant_payloads_match(pair):
    for shape, expected in ((Variant("circle", 1.5), 1), (Variant("square", 9), 9), (Variant("empty"), 0)):
        assert pair.call("measure", shape) == (("ok", expected),) * 2


# --- reml-wasm inspect prints what wasm-tools prints ----------------------------------------

@pytest.mark.parametrize("lang", sorted(BUILDERS))
def test_inspect_equals_wasm_tools(lang, capsys):
    """Text and --json, byte for byte (the componentize-js build brings wasi:http, with
    `type headers = fields;` aliases of resources used in signatures)."""
    import subprocess

    from reml_wasm.cli import main

    wasm = str(BUILDERS[lang]())
    for extra in ([], ["--json"]):
        assert main(["inspect", wasm, *extra]) == 0
        ours = capsys.readouterr().out
        oracle = subprocess.run([toolchain.wasm_tools_path(), "component", "wit", *extra, wasm],
                                check=True, capture_output=True, text=True).stdout
        assert ours == oracle


def test_wrong_resource_handles_are_refused_alike():
    """Handles name their resource as exported (`counter`, never a placeholder) and a
    handle of the wrong resource gets the same message on both paths."""
    comp = Component.from_file(build_ctest())
    host = {HOST: {"log": print, "scale": lambda v, by: v, "[constructor]blob": lambda d: 7,
                   "[method]blob.size": lambda b: 1}}
    seen = []
    for path in ("fast", "wasmtime"):
        inst = comp.instantiate(host, path=path)
        counter = inst.call("counters#[constructor]counter", 5)
        assert counter.type.name == "counter" and "%anon" not in repr(counter)
        blob = inst.call("make-blob", 3)
        for name, arg in (("counters#[method]counter.get", blob), ("counters#peek", 5), ("blob-size", counter)):
            with pytest.raises(DiagnosticError) as exc:
                inst.call(name, arg)
            seen.append((path, exc.value.code, exc.value.diagnostic.message))
    fast = [s[1:] for s in seen if s[0] == "fast"]
    assert fast == [s[1:] for s in seen if s[0] == "wasmtime"]
    assert fast[0] == ("ffi.value.type_mismatch", "value: expected a handle of counter, got a handle of blob")


@SETTINGS
@given(data=st.data())
@pytest.mark.parametrize("name", ["add", "echo", "echo-list", "echo-pair", "divide", "call-log"])
def test_ctest_ill_typed_arguments_alike(name, data):
    """The same rule on the project's ctest guest (records with lists and floats)."""
    comp, insts = _ctest()
    params = comp.resolve(name)[2].param_types()
    args = [data.draw(values_of(p, max_list=5)) for p in params]
    i = data.draw(st.integers(0, len(params) - 1))
    _, args[i] = data.draw(typed_values(max_depth=2))
    out = {}
    for path, inst in insts.items():
        try:
            out[path] = ("ok", inst.call(name, *args))
        except DiagnosticError as exc:
            out[path] = ("error", exc.code, exc.diagnostic.message)
    if any(o[:2] == ("error", "cabi.trap") for o in out.values()):
        _CTEST.clear()  # a trap poisons the instances: fresh ones for the next example
    assert _same(out["fast"], out["wasmtime"]), (args, out)


_CTEST: list = []


def _ctest():
    """(the ctest component, {path: instance}), made again after a trap."""
    if not _CTEST:
        comp = Component.from_file(build_ctest())
        _CTEST.extend([comp, {p: comp.instantiate({HOST: {"log": lambda m: None, "scale": lambda v, by: v}}, path=p)
                              for p in ("fast", "wasmtime")}])
    return _CTEST[0], _CTEST[1]
