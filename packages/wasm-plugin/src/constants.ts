/** Import module name of everything the instrumentation adds (fuel global, violation hooks). */
export const HOST_MODULE = 'codex_host';
