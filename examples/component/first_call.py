"""Your first component call: build a small C guest into a component, then call it.

Run from anywhere: `python examples/component/first_call.py`.  The guest is
native/ctest/ctest.c implementing the world of wit/ctest/ctest.wit, compiled for wasm32 by
the zig C compiler of the dev extra and wrapped into a component with wasm-tools (both
cached by content hash).  A component you already have works the same way:
`Component.from_file("your.wasm")`.
"""

from reml_wasm import Component, Sandbox, toolchain

ROOT = toolchain.PROJECT_ROOT
wasm = toolchain.build_component([ROOT / "native/ctest/ctest.c"], ROOT / "wit/ctest/ctest.wit", "ctest")

component = Component.from_file(wasm)
for name in sorted(component.exports())[:4]:
    print("export:", name)

logged = []
instance = component.instantiate({"reml:ctest/host@0.1.0": {"log": logged.append}},   # host imports
                                 sandbox=Sandbox(fuel=10_000_000))                   # a CPU budget
add = instance.func("add")                       # look up once, call many times
print("add(2, 3) =", add(2, 3))
print("echo:", instance.call("echo", "héllo"))
print("call-log returned", instance.call("call-log", "from the guest"), "and the host saw", logged)
assert add(2, 3) == 5 and logged == ["from the guest"]
