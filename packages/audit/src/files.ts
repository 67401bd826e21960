import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsp } from './fsp.js';

/**
 * Rotation naming: the live file keeps its name (`audit.jsonl`); rotated files get an increasing
 * numeric suffix (`audit.jsonl.1` is the oldest). The complete log, oldest first, is
 * `audit.jsonl.1 … audit.jsonl.N, audit.jsonl`.
 */
function rotatedFrom(path: string, names: readonly string[]): { n: number; path: string }[] {
  const base = basename(path);
  const dir = dirname(path);
  const out: { n: number; path: string }[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const suffix = name.slice(base.length + 1);
    if (/^[1-9][0-9]*$/.test(suffix)) out.push({ n: Number(suffix), path: join(dir, name) });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** The files of a rotated log, oldest first, ending with `path` itself if it exists. */
export async function logFiles(path: string): Promise<string[]> {
  let names: string[];
  try {
    names = await (await fsp()).readdir(dirname(path));
  } catch {
    return [];
  }
  const files = rotatedFrom(path, names).map((r) => r.path);
  if (names.includes(basename(path))) files.push(path);
  return files;
}

export function rotatedFilesSync(path: string): { n: number; path: string }[] {
  try {
    return rotatedFrom(path, readdirSync(dirname(path)));
  } catch {
    return [];
  }
}
