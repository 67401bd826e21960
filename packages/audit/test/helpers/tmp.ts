import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { AuditLogger } from '../../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'codex-audit-test-'));
  dirs.push(dir);
  return dir;
}

export const MASK = { home: '/home/alice', user: 'alice' } as const;

/** Appends `file_read` entries for `/f<from>` … `/f<to>` to the log at `path`, one write each. */
export async function appendReads(path: string, from: number, to: number): Promise<void> {
  const logger = new AuditLogger({ path, mask: MASK, batchSize: 1 });
  for (let i = from; i <= to; i++)
    await logger.log({
      profile: 'offline',
      operation: 'file_read',
      target: `/f${i}`,
      decision: 'allowed',
      reason: 'r',
    });
  await logger.close();
}
