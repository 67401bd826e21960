import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openResearchProvider } from '../src/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-research-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const base = () => ({ config: defaultConfig(), codexHome: home, env: {}, profile: 'offline' as const });

describe('openResearchProvider', () => {
  it('opens the local provider over a folder', async () => {
    const corpus = join(home, 'corpus');
    mkdirSync(corpus);
    writeFileSync(
      join(corpus, 'tides.md'),
      '# Tides\n\nTides are caused by the gravity of the moon and the sun.\n',
    );
    const opened = await openResearchProvider({ ...base(), provider: 'local', corpus });
    expect(opened.provider.name).toBe('local');
    const hits = await opened.provider.search('tides moon', { limit: 3 });
    await opened.close();
    expect(hits.map((h) => h.url)).toEqual([expect.stringContaining('tides.md')]);
  });

  it('refuses searxng under a profile without network, and audits the refusal', async () => {
    await expect(
      openResearchProvider({ ...base(), provider: 'searxng', endpoint: 'https://search.example' }),
    ).rejects.toMatchObject({ code: expect.any(String) });
    const log = join(home, 'audit', 'audit.jsonl');
    if (existsSync(log)) expect(readFileSync(log, 'utf8')).toContain('search.example');
  });
});
