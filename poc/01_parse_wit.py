"""PoC step: see reml_wasm/poc/parse.py (run from the repository root: python poc/01_parse_wit.py [OUT])."""

import sys

from reml_wasm.poc.parse import main

sys.exit(main())
