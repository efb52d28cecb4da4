"""WIT packages encoded as components (what `wasm-tools component wit --wasm` writes), read
back by the WIT front-end, against `wasm-tools component wit` byte for byte.

Inputs are made by wasm-tools from real WIT: every tree of tests/wit_corpus/real (WASI
0.2.10 / 0.2.12 / 0.3.0, wasi-tls, jco, Spin's SDK) and every valid case of
tests/wit_corpus/valid is encoded, then read (a) as the path itself and (b) as the one
dependency in `deps/` of a small package that uses it; both JSON and printed WIT must
equal wasm-tools' output.  Also: the text form (`.wat`), two encoded dependencies that
carry the same packages, encoded and WIT-text dependencies side by side, and damaged
binaries (hypothesis): a coded diagnostic, never another exception.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reml_wasm import wit
from reml_wasm import types as t
from reml_wasm.audit import DiagnosticError
from reml_wasm.wit.decode import decode_package
from test_wit_real import TREES, build_tree

VALID = Path(__file__).parent / "wit_corpus" / "valid"
# The one place where our printed WIT differs from wasm-tools' on purpose (docs/wit.md:
# no `@since` inside an unversioned package, which wasm-tools prints and cannot read back).
PRINTER_DIFFERENCE = {"091_dir_include_foreign_stability"}


def _tool(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(["wasm-tools", "component", "wit", "--color", "never", *map(str, args)],
                          capture_output=True, timeout=120)


def _user_of(package_json: dict, main: dict) -> str:
    """A small WIT package using the encoded package: it includes its first world, or
    imports its first interface."""
    name = main["name"]
    base, _, version = name.partition("@")
    base = ":".join(t.wit_name(part) for part in base.split(":"))
    at = f"@{version}" if version else ""
    if main["worlds"]:
        item = next(iter(main["worlds"]))
        line = f"include {base}/{t.wit_name(item)}{at};"
    else:
        item = next(iter(main["interfaces"]))
        line = f"import {base}/{t.wit_name(item)}{at};"
    # versioned: `include` of a world with `@since` items into an unversioned package prints
    # differently on purpose (docs/wit.md)
    return f"package test:user@99.0.0;\n\nworld user {{\n  {line}\n}}\n"


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, dict]:
    """Per real tree: the encoded package, a tree using it from deps/, and wasm-tools'
    JSON and text of both."""
    work = tmp_path_factory.mktemp("encoded")

    def make(name: str) -> dict:
        tree = build_tree(name, work / "trees")
        binary = work / f"{name}.wasm"
        proc = _tool("--wasm", "-o", binary, tree)
        assert proc.returncode == 0, proc.stderr.decode()
        package_json = _tool("--json", binary)
        main = json.loads(package_json.stdout)["packages"][-1]
        user = work / "users" / name
        (user / "deps").mkdir(parents=True)
        shutil.copy(binary, user / "deps" / "dep.wasm")
        (user / "user.wit").write_text(_user_of(json.loads(package_json.stdout), main))
        return {"binary": binary, "json": package_json, "text": _tool(binary), "user": user,
                "user_json": _tool("--json", user), "user_text": _tool(user)}

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(TREES, pool.map(make, TREES)))


@pytest.mark.parametrize("name", TREES)
def test_encoded_package_reads_back_as_wasm_tools_reads_it(name: str, encoded):
    case = encoded[name]
    assert case["json"].returncode == 0, case["json"].stderr.decode()
    r = wit.load(case["binary"])
    assert r.to_json_text().encode("utf-8") == case["json"].stdout
    assert r.to_wit() == case["text"].stdout.decode("utf-8")


@pytest.mark.parametrize("name", TREES)
def test_encoded_dependency_in_deps(name: str, encoded):
    case = encoded[name]
    assert case["user_json"].returncode == 0, case["user_json"].stderr.decode()
    r = wit.load(case["user"])
    assert r.to_json_text().encode("utf-8") == case["user_json"].stdout
    assert r.to_wit() == case["user_text"].stdout.decode("utf-8")


def test_cli_process_reads_an_encoded_dependency(encoded):
    case = encoded["wasi-0.2.12-http"]
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "wit", "--json", str(case["user"])],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == case["user_json"].stdout


@pytest.mark.parametrize("name", ["wasi-0.2.12-cli", "wasi-0.3.0-http", "spin-sdk-5.0.0"])
def test_text_form_dependency(name: str, encoded, tmp_path):
    """`deps/x.wat`: the component's text form (as `wasm-tools print` writes it)."""
    case = encoded[name]
    shutil.copytree(case["user"], tmp_path / "user", ignore=shutil.ignore_patterns("deps"))
    (tmp_path / "user" / "deps").mkdir()
    wat = subprocess.run(["wasm-tools", "print", str(case["binary"])], capture_output=True, check=True).stdout
    (tmp_path / "user" / "deps" / "dep.wat").write_bytes(wat)
    assert wit.load(tmp_path / "user").to_json_text().encode("utf-8") == case["user_json"].stdout


def test_two_encoded_dependencies_carry_the_same_packages(encoded, tmp_path):
    """cli and http both carry (parts of) wasi:io, clocks, ...: the packages are united."""
    root = tmp_path / "root"
    (root / "deps").mkdir(parents=True)
    for name in ("wasi-0.2.12-cli", "wasi-0.2.12-http"):
        shutil.copy(encoded[name]["binary"], root / "deps" / f"{name}.wasm")
    (root / "root.wit").write_text("package test:root;\n\nworld w {\n  include wasi:cli/command@0.2.12;\n"
                                   "  import wasi:http/types@0.2.12;\n}\n")
    expected = _tool("--json", root)
    assert expected.returncode == 0, expected.stderr.decode()
    r = wit.load(root)
    assert r.to_json_text().encode("utf-8") == expected.stdout
    assert r.to_wit() == _tool(root).stdout.decode("utf-8")


def test_encoded_and_text_dependencies_side_by_side(encoded, tmp_path):
    """A WIT text dependency uses a package that only an encoded dependency brings."""
    root = tmp_path / "root"
    (root / "deps" / "zz").mkdir(parents=True)
    shutil.copy(encoded["wasi-0.2.12-clocks"]["binary"], root / "deps" / "clocks.wasm")
    (root / "deps" / "zz" / "z.wit").write_text(
        "package z:z;\ninterface q {\n  use wasi:clocks/monotonic-clock@0.2.12.{instant};\n"
        "  f: func() -> instant;\n}\n")
    (root / "root.wit").write_text("package test:root;\nworld w {\n  import z:z/q;\n"
                                   "  import wasi:clocks/wall-clock@0.2.12;\n}\n")
    expected = _tool("--json", root)
    assert expected.returncode == 0, expected.stderr.decode()
    assert wit.load(root).to_json_text().encode("utf-8") == expected.stdout


def test_a_package_both_encoded_and_in_text_is_refused(encoded, tmp_path):
    """wasm-tools stops with an internal error here; ours is a located diagnostic."""
    root = tmp_path / "root"
    (root / "deps").mkdir(parents=True)
    shutil.copy(encoded["wasi-0.2.12-cli"]["binary"], root / "deps" / "cli.wasm")
    shutil.copytree(Path(__file__).parent / "wit_corpus" / "real" / "jco" / "0.2.12" / "wasi-io",
                    root / "deps" / "io", ignore=shutil.ignore_patterns("*.md"))
    (root / "root.wit").write_text("package test:root;\nworld w {\n  import wasi:io/streams@0.2.12;\n}\n")
    assert _tool("--json", root).returncode != 0
    with pytest.raises(DiagnosticError) as info:
        wit.load(root)
    assert info.value.diagnostic.code == "wit.package.duplicate"
    assert info.value.diagnostic.location is not None


@pytest.fixture(scope="module")
def valid_encoded(tmp_path_factory) -> list[tuple]:
    """Per valid case: (name, encoded package, wasm-tools JSON and text of it, and
    (tree using it from deps/, wasm-tools JSON and text of that) or None)."""
    work = tmp_path_factory.mktemp("valid")
    cases = sorted(p for p in VALID.iterdir() if p.suffix == ".wit" or p.is_dir())

    def make(case: Path):
        binary = work / f"{case.stem}.wasm"
        proc = _tool("--wasm", "-o", binary, case)
        assert proc.returncode == 0, proc.stderr.decode()
        return case.stem, binary, _tool("--json", binary), _tool(binary)

    def make_user(made):
        stem, binary, as_json, _ = made
        main = json.loads(as_json.stdout)["packages"][-1]
        if main["name"] == "root:component":
            return None
        user = work / "users" / stem
        (user / "deps").mkdir(parents=True)
        shutil.copy(binary, user / "deps" / "dep.wasm")
        (user / "user.wit").write_text(_user_of(json.loads(as_json.stdout), main))
        return user, _tool("--json", user), _tool(user)

    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(make, cases))
        return [m + (u,) for m, u in zip(made, pool.map(make_user, made))]


def test_every_valid_case_encoded_reads_back(valid_encoded):
    """Every valid case of the hand-written corpus (every WIT construct: resources,
    async, maps, gates, docs, named imports, external ids ...) encoded and read back."""
    checked = 0
    for stem, binary, as_json, as_text, _ in valid_encoded:
        assert as_json.returncode == 0, as_json.stderr.decode()
        # (an empty package encodes to a component without exports: both show its world)
        r = wit.load(binary)
        assert r.to_json_text().encode("utf-8") == as_json.stdout, stem
        if stem not in PRINTER_DIFFERENCE:
            assert r.to_wit() == as_text.stdout.decode("utf-8"), stem
        checked += 1
    assert checked >= 85


def test_every_valid_case_encoded_reads_back_from_deps(valid_encoded):
    """The same packages as the one dependency of a small package using them."""
    checked = 0
    for stem, _, _, _, user in valid_encoded:
        if user is None:
            continue
        path, as_json, as_text = user
        assert as_json.returncode == 0, (stem, as_json.stderr.decode())
        r = wit.load(path)
        assert r.to_json_text().encode("utf-8") == as_json.stdout, stem
        if stem not in PRINTER_DIFFERENCE:
            assert r.to_wit() == as_text.stdout.decode("utf-8"), stem
        checked += 1
    assert checked >= 85


def test_a_component_that_runs_code_is_not_a_package(tmp_path):
    """A real component (with core code) in deps/ is refused, as wasm-tools refuses it;
    given as the path, its world is shown, as wasm-tools shows it."""
    core, comp = tmp_path / "c.core.wasm", tmp_path / "c.wasm"
    subprocess.run(["wasm-tools", "component", "embed", "--dummy", str(VALID / "086_named_interface_imports.wit"),
                    "-o", str(core)], check=True, capture_output=True)
    subprocess.run(["wasm-tools", "component", "new", str(core), "-o", str(comp)], check=True, capture_output=True)
    root = tmp_path / "root"
    (root / "deps").mkdir(parents=True)
    shutil.copy(comp, root / "deps" / "c.wasm")
    (root / "r.wit").write_text("package a:r;\n")
    assert _tool("--json", root).returncode != 0
    with pytest.raises(DiagnosticError) as info:
        wit.load(root)
    assert info.value.diagnostic.code == "wit.package.binary_invalid"
    assert "actual component" in info.value.diagnostic.message
    r = wit.load(comp)
    assert r.to_json_text().encode("utf-8") == _tool("--json", comp).stdout
    assert r.to_wit() == _tool(comp).stdout.decode("utf-8")


def test_front_end_imports_no_connector():
    """The WIT front-end reads binaries through the neutral decoder, not a connector."""
    for path in (Path(wit.__file__).parent).glob("*.py"):
        assert "connectors" not in path.read_text(), path


# --- damaged binaries ----------------------------------------------------------------------

def _seeds() -> list[bytes]:
    out = []
    for name in ("009_resource_full.wit", "087_external_id.wit", "089_include_renames_resources.wit"):
        proc = _tool("--wasm", VALID / name)
        if proc.returncode == 0 and proc.stdout:
            out.append(proc.stdout)
    return out


SEEDS = _seeds()


@st.composite
def damaged(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "set"]))
        at = draw(st.integers(8, max(8, len(data) - 1)))
        if at >= len(data):
            data += draw(st.binary(min_size=1, max_size=4))
        elif op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=6))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        else:
            data[at] = draw(st.sampled_from([0x00, 0x7f, 0x80, 0xff, 0x40, 0x41, 0x42, 0x6b]))
    return bytes(data)


def test_seeds_are_packages():
    assert len(SEEDS) == 3
    for data in SEEDS:
        decode_package(data, "seed.wasm")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_binaries_give_coded_diagnostics(data: bytes):
    try:
        decoded = decode_package(data, "damaged.wasm")
    except DiagnosticError as exc:
        assert exc.diagnostic.code == "wit.package.binary_invalid"
        assert "damaged.wasm" in exc.diagnostic.message
        return
    assert decoded.model.packages  # what decodes is a package, and prints
    resolved = wit.Resolved(decoded.model, decoded.main)
    resolved.to_json_text(), resolved.to_wit()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_after_the_preamble(tail: bytes):
    try:
        decode_package(b"\x00asm\x0d\x00\x01\x00" + tail, "random.wasm")
    except DiagnosticError as exc:
        assert exc.diagnostic.code == "wit.package.binary_invalid"


def test_deeply_nested_types_are_a_diagnostic():
    """Component types nested past the stack: a diagnostic, not a RecursionError."""
    body = b""
    for _ in range(3000):  # (type (component (type (component ...)))) without closing decls
        inner = b"\x01" + body
        body = b"\x41" + bytes([1]) + inner if body else b"\x41\x00"
    section = b"\x01" + body
    data = b"\x00asm\x0d\x00\x01\x00" + b"\x07" + _leb(len(section)) + section
    with pytest.raises(DiagnosticError) as info:
        decode_package(data, "deep.wasm")
    assert info.value.diagnostic.code == "wit.package.binary_invalid"


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _with_docs(data: bytes, section: bytes) -> bytes:
    """`data` with its `package-docs` custom section replaced by `section`."""
    out, pos = bytearray(data[:8]), 8
    while pos < len(data):
        start, sid = pos, data[pos]
        size = shift = 0
        pos += 1
        while True:
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        body = data[pos:pos + size]
        pos += size
        if sid == 0 and body[1:1 + body[0]] == b"package-docs":
            continue
        out += data[start:pos]
    name = b"\x0cpackage-docs"
    return bytes(out) + b"\x00" + _leb(len(name) + len(section)) + name + section


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                         st.sampled_from(["docs", "types", "funcs", "items", "stability", "stable", "unstable",
                                          "since", "feature", "interfaces", "worlds", "i", "t", "f", "r", "w",
                                          "interface_exports", "func_exports", "interface_import_stability",
                                          "interface_import_docs", "package", "a"]),
                         inner, max_size=4), max_leaves=12)


@settings(max_examples=100, deadline=None)
@given(_json, _json, st.sampled_from([b"\x01", b"\x00", b"\x02"]), st.booleans())
def test_hostile_package_docs_give_coded_diagnostics(iface, world, version: bytes, shaped: bool):
    """Metadata of any shape (aimed at the package's interface `i` and world `w`, or
    anything at the top): read, or a coded diagnostic."""
    doc = {"interfaces": {"i": iface}, "worlds": {"w": world}} if shaped else iface
    data = _with_docs(SEEDS[1], version + json.dumps(doc).encode())
    try:
        decode_package(data, "docs.wasm")
    except DiagnosticError as exc:
        assert exc.diagnostic.code == "wit.package.binary_invalid"


def test_package_docs_replacement_keeps_the_package_readable():
    """The helper above really swaps the section: real docs give wasm-tools' JSON."""
    original = decode_package(SEEDS[1], "a.wasm")
    assert original.model.types[0].docs is not None or any(f.docs for i in original.model.interfaces
                                                          for f in i.functions.values())
    bare = decode_package(_with_docs(SEEDS[1], b"\x01{}"), "b.wasm")
    assert all(td.docs is None for td in bare.model.types)


# --- the same reader on components (`reml-wasm inspect`) -------------------------------------

def _component_seed() -> bytes:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        core, comp = Path(tmp) / "c.core.wasm", Path(tmp) / "c.wasm"
        subprocess.run(["wasm-tools", "component", "embed", "--dummy", str(VALID / "095_external_id_exports.wit"),
                        "-o", str(core)], check=True, capture_output=True)
        subprocess.run(["wasm-tools", "component", "new", str(core), "-o", str(comp)], check=True, capture_output=True)
        return comp.read_bytes()


COMPONENT = _component_seed()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_components_give_coded_diagnostics_to_inspect(data):
    """Damaged components (edits anywhere, the types included): inspect's reading of the
    world gives a coded diagnostic or a world, never another exception."""
    from reml_wasm.cli.component_wit import component_view
    from reml_wasm.wasm_binary import component as cb

    blob = bytearray(COMPONENT)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(8, len(blob) - 1))
        if data.draw(st.booleans()):
            blob[at] ^= 1 << data.draw(st.integers(0, 7))
        else:
            blob[at] = data.draw(st.sampled_from([0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x6b, 0x69]))
    try:
        view = component_view(cb.parse_component(bytes(blob)))
        view.json_text(), view.text()
    except DiagnosticError as exc:
        assert exc.diagnostic.code.startswith("ffi.component.")


GATED = """package demo:h@1.0.0;

interface i {
  @unstable(feature = x)
  hidden: func();
  visible: func();
  resource r {
    @unstable(feature = x)
    m: func();
    @unstable(feature = x)
    constructor();
    n: func();
  }
  @unstable(feature = x)
  record secret { a: u8 }
}

world w {
  @unstable(feature = x)
  import f: func();
  @unstable(feature = x)
  export e: func();
  import i;
}
"""


@pytest.mark.parametrize("features", [[], ["x"]])
def test_gated_functions_of_an_encoded_dependency_follow_the_features(tmp_path, features):
    """An encoded package keeps every gated item; reading it, the interfaces' functions
    of features not enabled are left out (types, interfaces and world items stay), as
    wasm-tools does."""
    (tmp_path / "p.wit").write_text(GATED)
    user = tmp_path / "user"
    (user / "deps").mkdir(parents=True)
    assert _tool("--all-features", "--wasm", "-o", user / "deps" / "h.wasm", tmp_path / "p.wit").returncode == 0
    (user / "user.wit").write_text("package test:user;\n\nworld user {\n  import demo:h/i@1.0.0;\n}\n")
    flags = [f"--features={','.join(features)}"] if features else []
    expected = _tool("--json", *flags, user)
    assert expected.returncode == 0, expected.stderr.decode()
    r = wit.load(user, features=features)
    assert r.to_json_text().encode("utf-8") == expected.stdout
    assert r.to_wit() == _tool(*flags, user).stdout.decode("utf-8")
    names = set(r.model.interfaces[0].functions)
    assert ("hidden" in names) == bool(features) and "visible" in names


@pytest.mark.parametrize("name", ["wasi-0.2.12-http", "wasi-0.3.0-cli", "spin-sdk-5.0.0"])
def test_inspect_of_an_encoded_package_prints_the_package(name: str, encoded):
    """`reml-wasm inspect` on a WIT package encoded as a component prints the package,
    as `wasm-tools component wit` does (the same reader as `wit.load`)."""
    from reml_wasm.cli.component_wit import component_view
    from reml_wasm.wasm_binary import component as cb

    case = encoded[name]
    view = component_view(cb.parse_component(case["binary"].read_bytes()))
    assert view.json_text().encode("utf-8") == case["json"].stdout
    assert view.text() == case["text"].stdout.decode("utf-8")
