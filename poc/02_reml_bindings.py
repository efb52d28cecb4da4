"""PoC step: see reml_wasm/poc/reml_step.py (run from the repository root: python poc/02_reml_bindings.py [OUT])."""

import sys

from reml_wasm.poc.reml_step import main

sys.exit(main())
