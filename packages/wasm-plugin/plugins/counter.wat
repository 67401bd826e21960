;; State-leak probe: prints the value of a mutable wasm global and of a byte in linear memory,
;; then increments both. A host that reused an instance would print 1, 2, … on later runs.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $runs (mut i32) (i32.const 0))
  (func (export "_start")
    ;; "g=<digit> m=<digit>\n" at offset 100
    (i32.store8 (i32.const 100) (i32.const 103)) ;; g
    (i32.store8 (i32.const 101) (i32.const 61))  ;; =
    (i32.store8 (i32.const 102) (i32.add (i32.const 48) (global.get $runs)))
    (i32.store8 (i32.const 103) (i32.const 32))
    (i32.store8 (i32.const 104) (i32.const 109)) ;; m
    (i32.store8 (i32.const 105) (i32.const 61))
    (i32.store8 (i32.const 106) (i32.add (i32.const 48) (i32.load8_u (i32.const 500))))
    (i32.store8 (i32.const 107) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 8))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
    (i32.store8 (i32.const 500) (i32.add (i32.load8_u (i32.const 500)) (i32.const 1)))))
