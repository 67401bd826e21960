import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as api from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

it('the README example runs and prints what its // → comments say', async () => {
  const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const code = block!
    .replace(/import \{([^}]*)\} from '@codex\/attest';/, 'const {$1} = api;')
    .replace(/import \{([^}]*)\} from 'node:crypto';/, 'const {$1} = crypto;');
  const printed: string[] = [];
  const log = (...args: unknown[]) => printed.push(args.map(String).join(' '));
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction('api', 'crypto', 'console', code)(api, await import('node:crypto'), { log });
  const expected = [...block!.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trim());
  expect(expected.length).toBe(2);
  expect(printed).toEqual(expected);
});

it('the README lists every error code of AttestErrorCode', () => {
  const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
  const codes = [...source.matchAll(/\| '(ATTEST_[A-Z_]+)'/g)].map((m) => m[1]!);
  expect(codes.length).toBe(9);
  for (const code of codes) expect(readme).toContain(`| \`${code}\``);
});
