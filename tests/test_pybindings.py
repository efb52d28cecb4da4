"""Typed Python bindings (`reml-wasm gen python`): generated for every world of the
repository's WIT and for WIT extracted from a component built by componentize-py; the
packages import, pass `mypy --strict` with a user script, and call through the router on
both connectors."""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from reml_wasm import toolchain, wit
from reml_wasm.codegen.python import generate_package
from reml_wasm.codegen.python.names import const_name, type_name, value_name

from router_support import router

ROOT = Path(__file__).resolve().parent.parent
MYPY_INI = "[mypy]\nstrict = True\ncache_dir = {cache}\n[mypy-reml_wasm.*]\nfollow_imports = silent\n"


def mypy(directory: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`mypy --strict` on a user script in `directory` (the generated packages beside it)."""
    (directory / "user.py").write_text(script)
    (directory / "mypy.ini").write_text(MYPY_INI.format(cache=directory / ".mypy_cache"))
    env = {**os.environ, "MYPYPATH": f"{ROOT}{os.pathsep}{directory}"}
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "user.py"],
                          cwd=directory, env=env, capture_output=True, text=True, timeout=600)


def load_package(directory: Path, name: str):
    sys.path.insert(0, str(directory))
    try:
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(directory))


def test_names():
    assert type_name("http-request") == "HttpRequest"
    assert value_name("parse-u32") == "parse_u32"
    assert value_name("raise") == "raise_" and value_name("type") == "type_"
    assert const_name("read-only") == "READ_ONLY"
    assert type_name("%anon-resource-3") == "AnonResource3"


def test_every_repository_world(tmp_path):
    packages = []
    for directory in sorted((ROOT / "wit").iterdir()):
        resolved = wit.load(directory)
        for world in resolved.main.worlds:
            name = f"{directory.name}_{world.name}".replace("-", "_")
            generate_package(world, tmp_path, name)
            assert (tmp_path / name / "py.typed").exists()
            load_package(tmp_path, name)
            packages.append(name)
    assert len(packages) >= 6
    proc = mypy(tmp_path, "".join(f"import {p}\n" for p in packages))
    assert proc.returncode == 0, proc.stdout + proc.stderr


USER_SCRIPT = '''
from reml_wasm.router import Router
from reml_wasm import wit
import poc_bindings
from poc_bindings import api

def run(router: Router) -> list[object]:
    poc_bindings.use(router)
    p: api.Person = api.birthday(api.Person(name="Ada", age=36))
    shape: api.Shape = api.Shape_Circle(2.0)
    out: list[object] = [api.greet("Ada"), p, api.area(shape), api.raise_(api.Level.LOW),
                         api.invert(api.Perms.READ | api.Perms.EXEC), api.scale([1, 2], 3), api.find(["a"], "a")]
    try:
        api.parse_level("loud")
    except poc_bindings.Err as e:
        out.append(e.value)
    with api.Counter(40) as c:
        out.append(c.add(2) + api.peek(c))
    return out
'''


@pytest.fixture(scope="module")
def poc_package(tmp_path_factory):
    out = tmp_path_factory.mktemp("pyb")
    result = subprocess.run([sys.executable, "-m", "reml_wasm", "gen", "python", str(ROOT / "wit" / "poc"),
                             "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (out / "poc_bindings" / "api.py").exists()
    return out, load_package(out, "poc_bindings")


def test_poc_bindings_typecheck(poc_package):
    out, _ = poc_package
    proc = mypy(out, USER_SCRIPT)
    assert proc.returncode == 0, proc.stdout
    bad = mypy(out, USER_SCRIPT + "\napi.greet(3)\napi.Person(name=1, age=2)\n")
    assert bad.returncode == 1 and 'Argument 1 to "greet" has incompatible type "int"' in bad.stdout


@pytest.mark.parametrize("prefer", ["component", "native"])
def test_poc_bindings_call_both_connectors(poc_package, prefer):
    _, pkg = poc_package
    api = pkg.api
    with router(prefer) as r:
        pkg.use(r)
        assert api.greet("Ada") == "Hello, Ada!"
        assert api.birthday(api.Person(name="Ada", age=36)) == api.Person(name="Ada", age=37)
        assert api.area(api.Shape_Square(3.0)) == 9.0 and api.area(api.Shape_Point()) == 0.0
        assert api.raise_(api.Level.MEDIUM) is api.Level.HIGH
        assert api.invert(api.Perms.READ) == api.Perms.WRITE | api.Perms.EXEC
        assert list(api.scale([1, -2], 5)) == [5, -10]
        assert api.reverse_bytes(b"\x00ab") == b"ba\x00"
        assert api.find(["a", "b"], "b") == 1 and api.find([], "b") is None
        assert api.parse_level("low") is api.Level.LOW
        with pytest.raises(pkg.Err) as exc:
            api.parse_level("loud")
        assert exc.value.value == 'not a level: "loud"'
        with api.Counter(40) as c:
            assert c.add(2) == 42 and c.get() == 42 and api.peek(c) == 42
            assert api.live_counters() == 1
        assert api.live_counters() == 0
        c.drop()                                    # dropping twice does nothing
        with pytest.raises(ValueError):
            c.get()                                 # a dropped handle cannot be lent
        d = api.Counter(7)
        assert api.finish(d) == 7 and api.live_counters() == 0
        with pytest.raises(ValueError):
            api.peek(d)                             # moved into finish


@settings(max_examples=30, deadline=None)
@given(name=st.text(max_size=20), age=st.integers(0, 2**32 - 1),
       perms=st.sets(st.sampled_from(["READ", "WRITE", "EXEC"])))
def test_typed_values_agree_on_both_connectors(poc_package, name, age, perms):
    _, pkg = poc_package
    api = pkg.api
    flags = api.Perms(0)
    for p in perms:
        flags |= api.Perms[p]
    answers = []
    for prefer in ("component", "native"):
        with router(prefer) as r:
            pkg.use(r)
            answers.append((api.birthday(api.Person(name=name, age=age)), api.invert(flags)))
    assert answers[0] == answers[1]
    assert answers[0][0] == api.Person(name=name, age=(age + 1) % 2**32)


# --- WIT extracted from a component someone else's toolchain built ---------------------------

GREETER_WIT = """package demo:greeter@0.2.0;

interface text {
  record stats { words: u32, chars: u32, longest-word: option<string> }
  enum case-style { lower, upper, title }
  flags options { trim, squeeze }
  variant token { word(string), number(s64), blank }
  describe: func(input: string) -> stats;
  restyle: func(input: string, style: case-style, opts: options) -> result<string, string>;
  tokens: func(input: string) -> list<token>;
}

world greeter {
  export text;
  export hello: func(name: string) -> string;
}
"""

GREETER_APP = '''from wit_world import exports
from wit_world.exports import text


class Text(exports.Text):
    def describe(self, input: str) -> text.Stats:
        words = input.split()
        return text.Stats(len(words), len(input), max(words, key=len) if words else None)

    def restyle(self, input: str, style: text.CaseStyle, opts: text.Options) -> str:
        if not input:
            raise exports.Err("empty input")
        if text.Options.SQUEEZE in opts:
            input = " ".join(input.split())
        return {text.CaseStyle.LOWER: input.lower(), text.CaseStyle.UPPER: input.upper(),
                text.CaseStyle.TITLE: input.title()}[style]

    def tokens(self, input: str) -> list[text.Token]:
        out: list[text.Token] = []
        for word in input.split(" "):
            if not word:
                out.append(text.Token_Blank())
            elif word.lstrip("-").isdigit():
                out.append(text.Token_Number(int(word)))
            else:
                out.append(text.Token_Word(word))
        return out


class WitWorld:
    def hello(self, name: str) -> str:
        return f"hello, {name}"
'''


@pytest.fixture(scope="module")
def greeter_component() -> Path:
    """A component built by componentize-py (cached by the hash of its inputs)."""
    digest = hashlib.sha256((GREETER_WIT + GREETER_APP).encode()).hexdigest()[:16]
    target = toolchain.cache_root() / f"componentize-{digest}" / "greeter.wasm"
    if not target.exists():
        work = toolchain.cache_root() / f".componentize-{digest}.{os.getpid()}"
        work.mkdir(parents=True, exist_ok=True)
        (work / "greeter.wit").write_text(GREETER_WIT)
        (work / "app.py").write_text(GREETER_APP)
        tool = shutil.which("componentize-py") or str(Path(sys.executable).parent / "componentize-py")
        proc = subprocess.run([tool, "-d", "greeter.wit", "-w", "greeter", "componentize", "app", "-o",
                               "greeter.wasm"], cwd=work, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        (work / "app.py").unlink()
        try:
            os.replace(work, target.parent)
        except OSError:
            assert target.exists()
    return target


THIRD_PARTY_SCRIPT = '''
from reml_wasm.router import Router
import greeter_bindings
from greeter_bindings import root, text

def run(router: Router) -> str:
    greeter_bindings.use(router)
    stats: text.Stats = text.describe("a bb")
    style: str = text.restyle("x", text.CaseStyle.UPPER, text.Options.TRIM)
    tokens: list[text.Token] = text.tokens("a 1")
    return root.hello("x") + str(stats.longest_word) + style + str(len(tokens))
'''


def test_bindings_from_a_third_party_component(greeter_component, tmp_path):
    from reml_wasm.connectors.component import ComponentConnector, Sandbox
    from reml_wasm.router import Router

    extracted = subprocess.run([toolchain.wasm_tools_path(), "component", "wit", str(greeter_component)],
                               capture_output=True, text=True, check=True).stdout
    assert "wasi:" in extracted               # the toolchain's own imports come along
    (tmp_path / "extracted.wit").write_text(extracted)
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "gen", "python", str(tmp_path / "extracted.wit"),
                           "-o", str(tmp_path), "--package", "greeter_bindings"], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    checked = mypy(tmp_path, THIRD_PARTY_SCRIPT)
    assert checked.returncode == 0, checked.stdout
    pkg = load_package(tmp_path, "greeter_bindings")
    text = pkg.text
    world = wit.load(tmp_path / "extracted.wit").world("root")
    conn = ComponentConnector(greeter_component, sandbox=Sandbox(wasi=True))
    with Router(world, connectors={"component": conn}) as r:
        pkg.use(r)
        assert pkg.root.hello("Ada") == "hello, Ada"
        assert text.describe("a bbb cc") == text.Stats(words=3, chars=8, longest_word="bbb")
        assert text.describe("") == text.Stats(words=0, chars=0, longest_word=None)
        assert text.restyle("a  b", text.CaseStyle.TITLE, text.Options.SQUEEZE) == "A B"
        with pytest.raises(pkg.Err) as exc:
            text.restyle("", text.CaseStyle.LOWER, text.Options(0))
        assert exc.value.value == "empty input"
        assert text.tokens("a 12  -3") == [text.Token_Word("a"), text.Token_Number(12), text.Token_Blank(),
                                           text.Token_Number(-3)]


def test_gen_python_bad_input_is_a_coded_diagnostic(tmp_path, capsys):
    from reml_wasm.cli import main
    (tmp_path / "notes.txt").write_text("not wit")
    assert main(["gen", "python", str(tmp_path / "notes.txt"), "-o", str(tmp_path)]) == 1
    assert "error[ffi.gen.input]" in capsys.readouterr().err
    assert main(["gen", "python", str(ROOT / "wit" / "poc"), "--world", "nope", "-o", str(tmp_path)]) == 1
    assert "no world named `nope`" in capsys.readouterr().err
    assert main(["gen", "python", str(ROOT / "native" / "poc" / "poc.wasm"), "-o", str(tmp_path),
                 "--package", "from_binary"]) == 0
    assert (tmp_path / "from_binary" / "api.py").exists()


def test_demo_bindings_on_both_connectors(tmp_path):
    from reml_wasm.router import Router
    generate_package(wit.load(ROOT / "wit" / "demo").world("demo"), tmp_path, "demo_bindings")
    pkg = load_package(tmp_path, "demo_bindings")
    demo = pkg.demo
    component, native = toolchain.build_demo()
    world = wit.load(ROOT / "wit" / "demo").world("demo")
    answers = []
    for route in ({"component": str(component)}, {"native": str(native), "prefer": "native"}):
        with Router(world, route) as r:
            pkg.use(r)
            answers.append((demo.greet("Ada"), demo.sum([1, 2, 2**32 - 1]), list(demo.reverse([1, 2, 3])),
                            demo.translate(demo.Point(x=1, y=2), 3, 4), demo.area(demo.Shape_Rect(demo.Point(2, 3))),
                            demo.area(demo.Shape_Empty()), demo.find(["a", "b"], "b"), demo.parse_u32("42")))
            with pytest.raises(pkg.Err):
                demo.parse_u32("x")
            assert r.connector_for("greet") == ("native" if "native" in route else "component")
    assert answers[0] == answers[1]
    assert answers[0] == ("Hello, Ada!", 2**32 + 2, [3, 2, 1], demo.Point(x=4, y=6), 6.0, 0.0, 1, 42)


def test_ctest_bindings_resources_and_records_on_the_component(tmp_path):
    from reml_wasm.router import Router
    world = wit.load(ROOT / "wit" / "ctest").world("ctest")
    generate_package(world, tmp_path, "ctest_bindings")
    pkg = load_package(tmp_path, "ctest_bindings")
    wasm = toolchain.build_component([ROOT / "native/ctest/ctest.c"], ROOT / "wit/ctest/ctest.wit", "ctest")
    from reml_wasm.connectors.component import ComponentConnector
    logged: list[str] = []
    conn = ComponentConnector(wasm, imports={"reml:ctest/host@0.1.0": {"log": logged.append}})
    with Router(world, connectors={"component": conn}) as r:
        pkg.use(r)
        pair = pkg.ctest.Pair(id=7, name="seven", weight=7.5, tags=["a", "bb"])
        assert pkg.ctest.echo_pair(pair) == pair
        assert pkg.ctest.add(2, 3) == 5
        with pkg.counters.Counter(5) as c:
            assert c.bump() == 6 and pkg.counters.peek(c) == 6
        c2 = pkg.counters.Counter(1)
        assert pkg.counters.finish(c2) == 1
        with pytest.raises(ValueError):
            c2.get()
    assert len(logged) == 2                      # the guest's destructor ran once per counter


def test_oracle_bindings_on_both_connectors(tmp_path):
    """The Canonical ABI oracle world: nested options, tuples, results without payloads,
    flags, on the native build, and its resource interface (which the native build does not
    implement) falls back to the component with one warning."""
    from reml_wasm.router import Router
    directory = ROOT / "native" / "cabi_oracle"
    world = wit.load(ROOT / "wit" / "cabi-oracle").world("oracle")
    component = toolchain.build_component([directory / "oracle.c"], ROOT / "wit" / "cabi-oracle" / "oracle.wit",
                                          "oracle", include_dirs=[directory])
    native = toolchain.build_native([directory / "oracle.c"], name="oracle", include_dirs=[directory])
    generate_package(world, tmp_path, "oracle_bindings")
    pkg = load_package(tmp_path, "oracle_bindings")
    o, res = pkg.oracle, pkg.res
    answers = []
    for route in ({"component": str(component)},
                  {"component": str(component), "native": str(native), "prefer": "native"}):
        seen: list = []
        with Router(world, route, on_diagnostic=seen.append) as r:
            pkg.use(r)
            got = (o.echo_option_option_u8(pkg.Some(None)), o.echo_option_option_u8(pkg.Some(7)),
                   o.echo_option_option_u8(None), o.echo_tuple((1, "two", 3.0)), o.echo_point(o.Point(x=1, y=-2)),
                   o.echo_flags9(o.Flags9.B0 | o.Flags9.B8),
                   o.echo_result_unit(pkg.Ok(None)), o.echo_list_string(["a", "β"]), o.echo_char("ß"))
            with pytest.raises(pkg.Err) as exc:
                o.echo_result_err_u8(pkg.Err(9))
            assert exc.value.value == 9
            with res.Counter(3) as c:
                c.bump(2)
                assert c.get() == 5
            answers.append(got)
            if "native" in route:
                assert r.connector_for("echo-tuple") == "native"
                assert r.connector_for("res#take") == "component"
                assert len(seen) == 1 and "res_constructor_counter" in seen[0].message
    assert answers[0] == answers[1]
    assert answers[0][:6] == (pkg.Some(None), pkg.Some(7), None, (1, "two", 3.0), o.Point(x=1, y=-2),
                              o.Flags9.B0 | o.Flags9.B8)
