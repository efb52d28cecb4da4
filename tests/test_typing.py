"""Static types: mypy over the package with the configuration of pyproject.toml (the modules
a user imports under the flags of `mypy --strict`), and the public API as a user's
type checker sees it."""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import reml_wasm

ROOT = Path(__file__).resolve().parents[1]

# The flags `mypy --strict` turns on that can be set per module.
STRICT_FLAGS = ("disallow_untyped_defs", "disallow_incomplete_defs", "disallow_untyped_decorators",
                "disallow_any_generics", "disallow_subclassing_any", "disallow_untyped_calls",
                "check_untyped_defs", "warn_return_any", "warn_unused_ignores", "no_implicit_reexport",
                "strict_equality", "extra_checks")


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m mypy ARGS` from the repository root (so pyproject.toml is its configuration)."""
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def strict_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    strict = [o for o in config["overrides"] if all(o.get(flag) is True for flag in STRICT_FLAGS)]
    assert len(strict) == 1, "one override carries the strict flags"
    return set(strict[0]["module"])


def test_mypy_passes_over_the_package():
    done = mypy()
    assert done.returncode == 0, f"mypy failed:\n{done.stdout}{done.stderr}"
    assert "Success: no issues found" in done.stdout


def test_every_module_behind_a_public_name_is_checked_strictly():
    strict = strict_modules()
    public = {module for module, _ in reml_wasm._EXPORTS.values()}
    assert "reml_wasm" in strict
    assert public <= strict, f"not strict: {sorted(public - strict)}"
    # and the module each public class is defined in, not only the package re-exporting it
    defined = {getattr(reml_wasm, name).__module__ for name in reml_wasm._EXPORTS}
    assert defined <= strict, f"not strict: {sorted(defined - strict)}"


def test_a_users_misuse_of_the_public_api_is_caught(tmp_path):
    """The package is typed (py.typed) and its lazy re-exports carry real types: correct
    use checks clean, and each misuse below is reported on its own line."""
    user = tmp_path / "user_code.py"
    user.write_text(textwrap.dedent("""\
        from reml_wasm import Ok, Router, load_wit
        from reml_wasm.types import Interface

        resolved = load_wit("wit/")
        iface: Interface = resolved.interface("demo")
        router: Router = Router(resolved.world("demo"))
        answer = Ok(1)
        count: int = resolved.main                  # line 8: a Package, not an int
        router.no_such_method()                     # line 9: not an attribute of Router
        load_wit(42)                                # line 10: not a path
        """), encoding="utf-8")
    done = mypy("--config-file", str(ROOT / "pyproject.toml"), "--strict", "--follow-imports=silent", str(user))
    # (by file name: mypy's cache may replay the errors of an earlier run under its path)
    errors = sorted({int(line.split(":")[1]) for line in done.stdout.splitlines()
                     if line.split(":")[0].endswith(user.name) and ": error:" in line})
    assert errors == [8, 9, 10], done.stdout + done.stderr


def test_all_names_every_public_entry_point():
    assert reml_wasm.__all__ == ["__version__", *reml_wasm._EXPORTS]
    for name in reml_wasm.__all__:
        assert getattr(reml_wasm, name) is not None
