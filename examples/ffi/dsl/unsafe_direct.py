"""FFI-DSL-001, the unsafe call: libm's `cos` bound with Core.Ffi.Dsl and called raw.

`bind_library("m")` -> `bind_fn("cos", fn(f64) -> f64)`, called directly (effects
`ffi` and `unsafe`, no wrapper).  The call's audit envelope is printed on stdout as JSON
(the scenario compares it with expected/ffi/dsl/unsafe_direct.audit.json).
"""

import json
import math
import sys

from reml_wasm import dsl


def main() -> int:
    libm = dsl.bind_library("m").value
    cos = libm.bind_fn("cos", dsl.fn_sig([dsl.F64], dsl.F64)).value
    result = cos(math.pi)
    if result != -1.0:
        print(f"cos(pi) gave {result!r}", file=sys.stderr)
        return 1
    print(json.dumps(cos.last_audit.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
