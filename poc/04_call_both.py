"""PoC step: see reml_wasm/poc/calls.py (run from the repository root: python poc/04_call_both.py [OUT])."""

import sys

from reml_wasm.poc.calls import main

sys.exit(main())
