(component
  (type $a (resource (rep i32)))
  (type $b (resource (rep i32)))
  (core func $new_a (canon resource.new $a))
  (core func $new_b (canon resource.new $b))
  (core module $m
    (import "" "new-a" (func $new_a (param i32) (result i32)))
    (import "" "new-b" (func $new_b (param i32) (result i32)))
    (func (export "two") (result i64)
      (i64.or
        (i64.shl (i64.extend_i32_u (call $new_a (i32.const 7))) (i64.const 32))
        (i64.extend_i32_u (call $new_b (i32.const 8))))))
  (core instance $i (instantiate $m
    (with "" (instance (export "new-a" (func $new_a)) (export "new-b" (func $new_b))))))
  (func $two (result u64) (canon lift (core func $i "two")))
  (export "two" (func $two))
)
