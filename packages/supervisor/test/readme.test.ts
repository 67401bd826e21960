import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, expect, it, vi } from 'vitest';

const file = new URL(`./__readme_example_${process.pid}__.ts`, import.meta.url);
afterAll(() => rmSync(file, { force: true }));

it('the README example runs and does what it says', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  writeFileSync(file, (code as string).replace("from '@codex/supervisor'", "from '../src/index.js'"));
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    await import(file.href);
    const lines = log.mock.calls.map((c) => c.map(String).join(' '));
    expect(log.mock.calls[0]?.[0]).toBe('succeeded');
    const merged = log.mock.calls[0]?.[1] as { output: string; sources: string[] };
    expect(merged.sources).toEqual(['node', 'uname', 'readme', 'both']);
    expect(merged.output).toContain(process.version);
    expect(merged.output).toContain('after node and uname');
    expect(lines.slice(1).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'node succeeded',
      'uname succeeded',
      'readme succeeded',
      'both succeeded',
    ]);
  } finally {
    log.mockRestore();
  }
});
