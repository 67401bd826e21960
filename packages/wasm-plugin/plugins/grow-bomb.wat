;; grow-bomb: a core module (no WASI) that grows memory by 1 page until refused, then traps.
;; Exercises the memory cap on a module without libc. Exported "run" keeps it a plain module;
;; the host runs plain modules' `_start` only through WASI, so this one also exports `_start`.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable))
