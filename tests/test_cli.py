import subprocess
import sys

from reml_wasm.cli import SUBCOMMANDS, main


def test_help_lists_every_subcommand(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_console_script_runs_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "bench", "nonexistent"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_interleaved_timing_reports_median_and_spread():
    from reml_wasm.benchmarks import Timing, interleaved, verdict
    fast, slow = interleaved([lambda: None, lambda: sum(range(300))], rounds=3, quick=True)
    assert isinstance(fast, Timing) and fast.low <= fast.median <= fast.high
    assert slow.median > fast.median          # the slower function is measured as slower
    assert verdict(slow.median / fast.median, 1.0, at_most=False) == "met"
    assert verdict(2.0, 1.5) == "MISSED" and verdict(1.2, 1.5) == "met"
    assert "±" in str(Timing(100.0, 90.0, 110.0)) and Timing(100.0, 90.0, 110.0).spread == 0.2


def test_interleaved_single_calls_take_turns_after_one_warm_call_each():
    from reml_wasm.benchmarks import interleaved, spread
    calls: list[str] = []
    a, b = interleaved([lambda: calls.append("a"), lambda: calls.append("b")], rounds=3, single=True)
    assert calls == ["a", "b"] + ["a", "b"] * 3     # warm calls, then one timed call of each per round
    assert a.low <= a.median <= a.high and b.low <= b.median <= b.high
    assert spread(a, b).startswith("±") and spread(a, b).endswith("%")
    calls.clear()
    interleaved([lambda: calls.append("a")], rounds=5, quick=True, single=True)
    assert calls == ["a", "a"]                       # quick: one round


def test_a_subcommand_imports_only_what_it_uses():
    code = ("import sys\nfrom reml_wasm import cli\n"
            "for argv in (['--version'], ['wit', '--help'], ['--help']):\n"
            "    try:\n        cli.main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m in ('wasmtime', 'cffi', 'reml_wasm.cli.call', "
            "'reml_wasm.cli.call_native', 'reml_wasm.cli.bench', 'reml_wasm.cli.wit')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "['reml_wasm.cli.wit']"


def test_bench_startup_measures_every_console_script():
    import json
    proc = subprocess.run([sys.executable, "-m", "reml_wasm", "bench", "startup", "--quick", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    labels = [r[0] for r in rows]
    assert labels[0] == "python -c pass"
    for script in ("reml-wasm", "reml-bindgen", "reml-plugin-tester"):
        assert f"{script} --version" in labels and f"{script} --help" in labels
    assert all(r[1] > 0 for r in rows)
