/**
 * Monotonic milliseconds from `process.hrtime`. Not `performance.now()`: the `performance`
 * global loads perf_hooks (about 1.7 ms of every one-shot `codex plugin run`), and the plugin
 * runtime needs only a monotonic clock.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
