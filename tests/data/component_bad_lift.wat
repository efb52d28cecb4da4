(component
  (core module $m
    (func (export "f") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (alias core export $i "f" (core func $f))
  (func $g (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $f)))
  (export "g" (func $g))
)
