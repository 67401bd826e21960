import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as api from '../src/index.js';

it('the README example runs and prints what its // → comments say', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const code = block!.replace(/import \{([^}]*)\} from '@codex\/security-profile';/, 'const {$1} = api;');
  const printed: string[] = [];
  const log = (...args: unknown[]) => printed.push(args.map(String).join(' '));
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction('api', 'console', code)(api, { log });
  const expected = [...block!.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trim());
  expect(expected.length).toBe(6);
  expect(printed).toEqual(expected);
});
