"""How many inputs our readers of WIT from binaries give byte-identical to wasm-tools.

    python tests/wit_binary_agreement.py [--quick]

Inputs, all made by wasm-tools from the WIT corpora of tests/wit_corpus:
- encoded packages: every real tree and every valid case, with no feature and with every
  feature, encoded by `wasm-tools component wit --wasm`; each read (a) as the path itself
  and (b) as the one `deps/` entry of a small package using it;
- components: every world of every valid case (every feature on) embedded around a dummy
  core module (`component embed --dummy` + `component new`), read by `reml-wasm inspect`.
A case agrees when our JSON and printed WIT both equal wasm-tools' output byte for byte
(with the one intended printer difference of docs/wit.md accepted on WIT text).
`--quick`: the real trees only for encoded packages, no feature mode.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from reml_wasm import types as t  # noqa: E402
from reml_wasm import wit  # noqa: E402
from test_wit_real import TREES, build_tree  # noqa: E402

VALID = ROOT / "tests" / "wit_corpus" / "valid"
PRINTER_DIFFERENCE = {"091_dir_include_foreign_stability"}


def _tool(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(["wasm-tools", "component", "wit", "--color", "never", *map(str, args)],
                          capture_output=True, timeout=300)


def _ours(load) -> tuple[bytes, str] | None:
    try:
        r = load()
        return r.to_json_text().encode("utf-8"), r.to_wit()
    except Exception:  # the code measured may refuse the input or fail: not identical
        return None


def _agrees(ours, as_json, as_text, stem: str) -> bool:
    if ours is None or as_json.returncode != 0:
        return False
    return ours[0] == as_json.stdout and (stem in PRINTER_DIFFERENCE or ours[1] == as_text.stdout.decode())


def _encoded_case(job) -> tuple[str, bool | None, bool | None]:
    label, source, flags, work = job
    binary = work / f"{label}.wasm"
    if _tool(*flags, "--wasm", "-o", binary, source).returncode != 0:
        return label, None, None
    as_json, as_text = _tool("--json", binary), _tool(binary)
    if as_json.returncode != 0:
        return label, None, None
    main = json.loads(as_json.stdout)["packages"][-1]
    if main["name"] == "root:component":  # an empty package encodes to a plain component
        return label, None, None
    path_ok = _agrees(_ours(lambda: wit.load(binary)), as_json, as_text, source.stem)
    user = work / f"{label}-user"
    (user / "deps").mkdir(parents=True)
    shutil.copy(binary, user / "deps" / "dep.wasm")
    base, _, version = main["name"].partition("@")
    base = ":".join(t.wit_name(part) for part in base.split(":"))
    at = f"@{version}" if version else ""
    line = (f"include {base}/{t.wit_name(next(iter(main['worlds'])))}{at};" if main["worlds"]
            else f"import {base}/{t.wit_name(next(iter(main['interfaces'])))}{at};")
    # a versioned user: `include` of a world with `@since` items into an unversioned package
    # prints differently on purpose (docs/wit.md)
    (user / "user.wit").write_text(f"package test:user@99.0.0;\n\nworld user {{\n  {line}\n}}\n")
    dep_ok = _agrees(_ours(lambda: wit.load(user)), _tool("--json", user), _tool(user), source.stem)
    return label, path_ok, dep_ok


def _component_case(job) -> tuple[str, bool]:
    label, case, world, work = job
    from reml_wasm.cli.component_wit import component_view
    try:
        from reml_wasm.wasm_binary import component as cb
    except ImportError:  # an older layout of the package (to measure it too)
        from reml_wasm.connectors.component import binary as cb  # type: ignore[no-redef]

    core, comp = work / f"{label}.core.wasm", work / f"{label}.wasm"
    subprocess.run(["wasm-tools", "component", "embed", "--dummy", "--all-features", str(case), "--world", world,
                    "-o", str(core)], check=True, capture_output=True)
    subprocess.run(["wasm-tools", "component", "new", str(core), "-o", str(comp)], check=True, capture_output=True)

    def view():
        v = component_view(cb.parse_component(comp.read_bytes()))
        text = getattr(v, "json_text", None)
        return text() if text else json.dumps(v.json(), indent=2, ensure_ascii=False), v.text()

    try:
        ours = view()
    except Exception:
        return label, False
    as_json, as_text = _tool("--json", comp), _tool(comp)
    return label, ours[0].encode("utf-8") == as_json.stdout and ours[1] == as_text.stdout.decode()


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    work = Path(tempfile.mkdtemp(prefix="wit-binary-"))
    jobs = []
    modes = [[]] if quick else [[], ["--all-features"]]
    for flags in modes:
        tag = "all" if flags else "default"
        for name in TREES:
            jobs.append((f"real-{name}-{tag}", build_tree(name, work / f"trees-{tag}"), flags, work))
        if not quick:
            for case in sorted(p for p in VALID.iterdir() if p.suffix == ".wit" or p.is_dir()):
                jobs.append((f"valid-{case.stem}-{tag}", case, flags, work))
    with ThreadPoolExecutor(max_workers=2) as pool:
        encoded = list(pool.map(_encoded_case, jobs))
    packages = [r for r in encoded if r[1] is not None]
    print(f"encoded packages read as the path: {sum(1 for r in packages if r[1])}/{len(packages)} identical")
    print(f"encoded packages read from deps/:  {sum(1 for r in packages if r[2])}/{len(packages)} identical")
    for label, path_ok, dep_ok in packages:
        if not (path_ok and dep_ok):
            print(f"  differs: {label} (path {path_ok}, deps {dep_ok})")
    comps = []
    for case in sorted(p for p in VALID.iterdir() if p.suffix == ".wit" or p.is_dir()):
        for w in wit.load(case, all_features=True).main.worlds:
            comps.append((f"{case.stem}-{w.name}", case, t.wit_name(w.name), work))
    with ThreadPoolExecutor(max_workers=2) as pool:
        inspected = list(pool.map(_component_case, comps))
    print(f"components (inspect):              {sum(1 for _, ok in inspected if ok)}/{len(inspected)} identical")
    for label, ok in inspected:
        if not ok:
            print(f"  differs: {label}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
