import pytest

from reml_wasm.audit import DiagnosticError
from reml_wasm.bid import nyash_toml

FACTS_EXAMPLE = '''\
[libraries."libnyash_filebox_plugin.so"]
boxes = ["FileBox"]
path = "./plugins/nyash-filebox-plugin/target/release/libnyash_filebox_plugin.so"

[libraries."libnyash_filebox_plugin.so".FileBox]
type_id = 6            # required
abi_version = 1        # default 1
singleton = false      # default false: true = one instance born at load, shared

[libraries."libnyash_filebox_plugin.so".FileBox.methods]
birth = { method_id = 0 }
open = { method_id = 1, args = ["path", "mode"] }
read = { method_id = 2 }
write = { method_id = 3, args = ["data"] }
close = { method_id = 4 }
copyFrom = { method_id = 7, args = [ { kind = "box", category = "plugin" } ] }
cloneSelf = { method_id = 8 }
fini = { method_id = 4294967295 }

[plugin_paths]
search_paths = ["./target/release", "./plugins/*/target/release"]
'''


def load_error(text, file="nyash.toml"):
    with pytest.raises(DiagnosticError) as info:
        nyash_toml.loads(text, source=file)
    return info.value.diagnostic


def test_facts_example_loads():
    cfg = nyash_toml.loads(FACTS_EXAMPLE)
    lib, box = cfg.box("FileBox")
    assert lib.path.endswith("libnyash_filebox_plugin.so") and lib.boxes == ("FileBox",)
    assert (box.type_id, box.abi_version, box.singleton) == (6, 1, False)
    assert box.methods["open"].args[1].name == "mode"
    assert box.methods["copyFrom"].args[0].kind == "box"
    assert box.methods["copyFrom"].args[0].tlv_kind == "handle"
    assert box.methods["fini"].role == "destructor" and box.methods["birth"].role == "constructor"
    assert box.by_id(8).name == "cloneSelf"
    assert cfg.search_paths == ("./target/release", "./plugins/*/target/release")


def test_defaults_and_path_defaults_to_key():
    cfg = nyash_toml.loads('[libraries."libx.so"]\nboxes = ["X"]\n[libraries."libx.so".X]\ntype_id = 9\n')
    lib, box = cfg.box("X")
    assert lib.path == "libx.so"
    assert (box.abi_version, box.singleton, box.methods) == (1, False, {})


def test_box_resolves_to_first_library_listing_it():
    text = ('[libraries."liba.so"]\nboxes = ["X"]\n[libraries."liba.so".X]\ntype_id = 9\n'
            '[libraries."libb.so"]\nboxes = ["X", "Y"]\n[libraries."libb.so".X]\ntype_id = 10\n'
            '[libraries."libb.so".Y]\ntype_id = 11\n')
    cfg = nyash_toml.loads(text)
    assert cfg.box("X")[0].name == "liba.so" and cfg.box("X")[1].type_id == 9
    assert cfg.box("Y")[0].name == "libb.so"


def test_returns_result_and_migration_arg_form():
    cfg = nyash_toml.loads('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\ntype_id = 3\n'
                           '[libraries.l.B.methods]\n'
                           'w = { method_id = 1, returns_result = true, args = [{ name = "d", from = "string", to = "bytes" }] }\n')
    m = cfg.box("B")[1].methods["w"]
    assert m.returns_result and m.args[0].name == "d" and m.args[0].tlv_kind == "bytes"


@pytest.mark.parametrize("text, code, line, col", [
    ('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\nabi_version = 1\n', "ffi.plugin.config.missing", 3, 1),
    ('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\ntype_id = "6"\n', "ffi.plugin.config.type", 4, 1),
    ('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\ntype_id = 6\nsingleton = 1\n', "ffi.plugin.config.type", 5, 1),
    ('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\ntype_id = 6\n[libraries.l.B.methods]\n'
     'a = { method_id = 1 }\nb = { args = ["x"] }\n', "ffi.plugin.config.missing", 7, 1),
    ('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\ntype_id = 6\n[libraries.l.B.methods]\n'
     'a = { method_id = -1 }\n', "ffi.plugin.config.range", 6, 7),
    ('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\ntype_id = 6\n[libraries.l.B.methods]\n'
     'a = { method_id = 1, args = [{ kind = "pointer" }] }\n', "ffi.plugin.config.arg_kind", 6, 22),
    ('[libraries.l]\nboxes = ["B"]\n', "ffi.plugin.config.missing", 2, 1),
    ('[libraries.l]\nboxes = ["B", "C"]\n[libraries.l.B]\ntype_id = 6\n[libraries.l.C]\ntype_id = 6\n',
     "ffi.plugin.config.duplicate", 6, 1),
    ('[libraries.l]\nboxes = ["B"]\n[libraries.l.B]\ntype_id = 6\n[libraries.l.Z]\ntype_id = 7\n',
     "ffi.plugin.config.unknown_box", 5, 1),
    ('[libraries.l]\nboxes = ["B"\n', "ffi.plugin.config.syntax", None, None),
    ('x = 1\n', "ffi.plugin.config.missing", None, None),
])
def test_config_errors_have_codes_and_positions(text, code, line, col):
    d = load_error(text)
    assert d.code == code
    if line is not None:
        assert d.location is not None and (d.location.file, d.location.line, d.location.column) == ("nyash.toml", line, col)


def test_syntax_error_position_comes_from_tomllib():
    d = load_error('[libraries.l]\nboxes = = 1\n')
    assert d.code == "ffi.plugin.config.syntax" and d.location.line == 2


def test_library_path_resolution(tmp_path):
    (tmp_path / "plugins" / "p1" / "target" / "release").mkdir(parents=True)
    so = tmp_path / "plugins" / "p1" / "target" / "release" / "libq.so"
    so.write_bytes(b"")
    text = ('[libraries."libq.so"]\nboxes = ["Q"]\n[libraries."libq.so".Q]\ntype_id = 5\n'
            '[plugin_paths]\nsearch_paths = ["./target/release", "./plugins/*/target/release"]\n')
    cfg_file = tmp_path / "nyash.toml"
    cfg_file.write_text(text)
    cfg = nyash_toml.load(cfg_file)
    assert cfg.resolve_library(cfg.libraries["libq.so"]) == so.resolve()
    # an explicit relative path is taken relative to the config file
    cfg2 = nyash_toml.loads(text.replace('boxes = ["Q"]', 'boxes = ["Q"]\npath = "plugins/p1/target/release/libq.so"'),
                            source=cfg_file)
    assert cfg2.resolve_library(cfg2.libraries["libq.so"]) == so.resolve()
    so.unlink()
    with pytest.raises(DiagnosticError) as info:
        cfg.resolve_library(cfg.libraries["libq.so"])
    assert info.value.code == "ffi.plugin.not_found"
    assert any("p1/target/release/libq.so" in t for t in info.value.diagnostic.extensions["tried"])


def test_unreadable_config(tmp_path):
    with pytest.raises(DiagnosticError) as info:
        nyash_toml.load(tmp_path / "missing.toml")
    assert info.value.code == "ffi.plugin.config.unreadable"


from hypothesis import given, settings, strategies as st  # noqa: E402

_SCALARS = ['[{ kind = 1 }]', '[{ name = 2 }]', "1", "0", "-5", "4294967296", '"x"', "true", "[]", "{}", '["a", 1]', '[{ kind = "box" }]',
            '[{ kind = "pointer" }]', "{ method_id = 3 }", "1.5", '"libz.so"']


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.sampled_from(_SCALARS)), min_size=1, max_size=3))
def test_mutated_configs_load_or_fail_with_a_config_code(mutations):
    lines = FACTS_EXAMPLE.splitlines()
    for index, scalar in mutations:
        candidates = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("[")]
        i = candidates[index % len(candidates)]
        key = lines[i].split("=", 1)[0]
        lines[i] = f"{key}= {scalar}"
    try:
        cfg = nyash_toml.loads("\n".join(lines) + "\n", source="m.toml")
    except DiagnosticError as exc:
        assert exc.code.startswith("ffi.plugin.config.")
        loc = exc.diagnostic.location
        assert loc is None or 1 <= loc.line <= len(lines) + 1
    else:
        for lib in cfg.libraries.values():
            for box in lib.box_configs.values():
                assert 0 < box.type_id <= 0xFFFFFFFF
                assert all(0 <= m.method_id <= 0xFFFFFFFF for m in box.methods.values())
