// node:fs/promises brings about ten more built-in modules (directories, watchers, readline) that
// cost a one-shot `codex exec` ~3 ms to load. Only the reading side of the log uses it, so it is
// loaded on first use and a process that only writes entries never loads it.
export const fsp = () => import('node:fs/promises');
