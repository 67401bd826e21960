;; Memory corruption: hands fd_write an iovec whose buffer pointer points past the end of linear
;; memory (as a guest with a smashed heap would). Must be a PLUGIN_TRAP, not a host error.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 0xfffffff0))
    (i32.store (i32.const 4) (i32.const 64))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
