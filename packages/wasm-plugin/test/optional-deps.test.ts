import { expect, it } from 'vitest';
import { PluginRuntimeMissingError } from '../src/index.js';
import { loadOptional } from '../src/optional-deps.js';

it('a missing plugin runtime package is one typed error naming it and the install command', async () => {
  // A real failed resolution by Node (the package does not exist), standing in for binaryen.
  const missing = () => import('@codex/no-such-package-installed' as string);
  const error = await loadOptional('binaryen', missing).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PluginRuntimeMissingError);
  expect(error).toMatchObject({ code: 'PLUGIN_RUNTIME_MISSING', packageName: 'binaryen' });
  expect((error as Error).message).toMatch(/npm install -g binaryen @bytecodealliance\/jco-transpile/);
  // Any other failure is not disguised as "missing".
  await expect(loadOptional('binaryen', () => Promise.reject(new SyntaxError('bad')))).rejects.toThrow(
    SyntaxError,
  );
  // Installed (as in this workspace): the real module.
  await expect(loadOptional('binaryen')).resolves.toHaveProperty('default.readBinary');
});
