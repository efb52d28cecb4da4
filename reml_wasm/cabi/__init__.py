"""reml_wasm.cabi: the Canonical ABI engine (synchronous ABI, pointer width 4 or 8).

Layout (`alignment`, `size`, `flatten`, `flatten_type`), value marshalling by the
reference interpreter (`lift_flat`, `lower_flat`, `load`, `store`), compiled per-signature
plans (`export_plan`, `import_plan`), memories and handle tables (resources, stream and
future ends, error-contexts).
See docs/canonical-abi.md.
"""

from .errors import Trap
from .flatten import MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, FlatSignature, flatten
from .layout import MAX_FLAGS, alignment, discriminant_size, flatten_type, size
from .lift import lift_flat, load
from .lower import lower_flat, store
from .memory import BytesMemory, Memory, NativeMemory, WasmtimeMemory
from .numbers import NumberList
from .options import CanonicalOptions
from .plans import ExportPlan, ImportPlan, export_plan, import_plan
from .resources import ErrorContextHandle, FutureHandle, Resource, ResourceTables, StreamHandle

__all__ = [
    "Trap", "Memory", "BytesMemory", "WasmtimeMemory", "NativeMemory", "CanonicalOptions",
    "alignment", "size", "flatten", "flatten_type", "discriminant_size", "FlatSignature",
    "MAX_FLAT_PARAMS", "MAX_FLAT_RESULTS", "MAX_FLAGS",
    "lift_flat", "lower_flat", "load", "store",
    "export_plan", "import_plan", "ExportPlan", "ImportPlan",
    "ResourceTables", "Resource", "StreamHandle", "FutureHandle", "ErrorContextHandle", "NumberList",
]
