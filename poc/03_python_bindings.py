"""PoC step: see reml_wasm/poc/py_step.py (run from the repository root: python poc/03_python_bindings.py [OUT])."""

import sys

from reml_wasm.poc.py_step import main

sys.exit(main())
