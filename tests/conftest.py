"""Suite-wide settings.

Under CI (the `CI` environment variable, which .ci/run's caller sets) hypothesis runs
derandomized: the same examples every run, so a red CI always means a change broke
something.  On a developer's machine it explores new examples each run and keeps the
failures it finds in .hypothesis/ to replay them.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


import pytest  # noqa: E402


@pytest.fixture()
def granted_tree(tmp_path):
    """For WASI file tests: granted/ (a file, a link pointing out, a relative link climbing
    out of sub/, a link inside, a subdirectory) beside secret.txt, which is not granted."""
    (tmp_path / "secret.txt").write_text("top secret")
    granted = tmp_path / "granted"
    granted.mkdir()
    (granted / "f.txt").write_text("granted text")
    (granted / "sub").mkdir()
    os.symlink(tmp_path / "secret.txt", granted / "out-link")
    os.symlink("../../secret.txt", granted / "sub" / "up-link")
    os.symlink("f.txt", granted / "in-link")
    return tmp_path


@pytest.fixture()
def inspect_equals_wasm_tools(capsys):
    """A check that `reml-wasm inspect X.wasm` prints what `wasm-tools component wit X.wasm`
    prints, as text and with --json."""
    import subprocess

    from reml_wasm import toolchain
    from reml_wasm.cli import main

    def check(component) -> None:
        for extra in ([], ["--json"]):
            assert main(["inspect", str(component), *extra]) == 0
            oracle = subprocess.run([toolchain.wasm_tools_path(), "component", "wit", *extra, str(component)],
                                    check=True, capture_output=True, text=True).stdout
            assert capsys.readouterr().out == oracle
    return check
