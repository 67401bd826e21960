import { expect, it } from 'vitest';
import { PluginRuntimeMissingError } from '../src/index.js';
import { loadOptional } from '../src/optional-deps.js';

it('a missing plugin runtime package is one typed error naming it and the install command', async () => {
  // A real failed resolution by Node (the package does not exist), standing in for jco.
  const missing = () => import('@codex/no-such-package-installed' as string);
  const jco = '@bytecodealliance/jco-transpile';
  const error = await loadOptional(jco, missing).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PluginRuntimeMissingError);
  expect(error).toMatchObject({ code: 'PLUGIN_RUNTIME_MISSING', packageName: jco });
  expect((error as Error).message).toMatch(/npm install -g @bytecodealliance\/jco-transpile \(/);
  // Any other failure is not disguised as "missing".
  await expect(loadOptional(jco, () => Promise.reject(new SyntaxError('bad')))).rejects.toThrow(SyntaxError);
  // Installed (as in this workspace): the real module.
  await expect(loadOptional(jco)).resolves.toHaveProperty('transpileBytes');
});
