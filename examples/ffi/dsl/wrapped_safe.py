"""FFI-DSL-001, the safe call: libm's `cos` bound with Core.Ffi.Dsl and wrapped.

`bind_library("m")` -> `bind_fn("cos", fn(f64) -> f64)` -> `wrap(raw, {name: "libm.cos"})`;
the wrapped call returns `Ok(1.0)` for `cos(0.0)`.  The call's audit envelope is printed
on stdout as JSON (the scenario compares it with expected/ffi/dsl/wrapped_safe.audit.json).
"""

import json
import sys

from reml_wasm import dsl
from reml_wasm.values import Ok


def main() -> int:
    libm = dsl.bind_library("m").value
    raw = libm.bind_fn("cos", dsl.fn_sig([dsl.F64], dsl.F64)).value
    cos = dsl.wrap(raw, dsl.FfiWrapSpec(name="libm.cos", null_check=False)).value
    result = cos(0.0)
    if result != Ok(1.0):
        print(f"cos(0.0) gave {result!r}", file=sys.stderr)
        return 1
    print(json.dumps(cos.last_audit.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
