;; Core module of the socket-probe component (see socket-probe.wit). Canonical ABI:
;; result<own<T>, error-code> is written at retptr as { u8 tag @0, payload @4 }; tag 1 = err,
;; error-code 1 = access-denied. run() returns 0 (ok) only if both calls were refused that way.
(module
  (import "wasi:sockets/instance-network@0.2.0" "instance-network" (func $instance_network (result i32)))
  (import "wasi:sockets/tcp-create-socket@0.2.0" "create-tcp-socket" (func $create_tcp (param i32 i32)))
  (import "wasi:sockets/ip-name-lookup@0.2.0" "resolve-addresses" (func $resolve (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "example.com")
  (func $denied (param $ret i32) (result i32)
    (i32.and
      (i32.eq (i32.load8_u (local.get $ret)) (i32.const 1))
      (i32.eq (i32.load8_u offset=4 (local.get $ret)) (i32.const 1))))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $net i32)
    (local.set $net (call $instance_network))
    (call $create_tcp (i32.const 0) (i32.const 16))
    (call $resolve (local.get $net) (i32.const 64) (i32.const 11) (i32.const 32))
    (if (result i32)
      (i32.and (call $denied (i32.const 16)) (call $denied (i32.const 32)))
      (then (i32.const 0))
      (else (i32.const 1)))))
