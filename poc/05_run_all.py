"""Every PoC step in order, then the run log (the same as `reml-wasm poc [--out OUT]`)."""

import sys
from pathlib import Path

from reml_wasm.poc.pipeline import run

sys.exit(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("poc-out")))
