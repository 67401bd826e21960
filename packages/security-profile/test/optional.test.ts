import { describe, expect, it } from 'vitest';
import { importOptional, isModuleNotFound, OptionalDependencyMissingError } from '../src/index.js';

describe('optional peers', () => {
  it('a package that is not installed becomes one error naming the feature and the install command', async () => {
    const load = () => import(['@codex', 'not-installed-anywhere'].join('/'));
    const error = await importOptional('OTLP export', ['@codex/not-installed-anywhere@1.0.0'], load).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OptionalDependencyMissingError);
    expect(error).toMatchObject({
      code: 'OPTIONAL_DEPENDENCY_MISSING',
      feature: 'OTLP export',
      packages: ['@codex/not-installed-anywhere@1.0.0'],
    });
    expect((error as Error).message).toBe(
      'OTLP export needs a package that is not installed: @codex/not-installed-anywhere@1.0.0; install it next to codex ' +
        '(npm install @codex/not-installed-anywhere@1.0.0, or npm install -g @codex/not-installed-anywhere@1.0.0 for a global codex)',
    );
    expect(isModuleNotFound((error as Error).cause)).toBe(true);
  });

  it('an installed package loads; any other failure is rethrown as it is', async () => {
    await expect(importOptional('toml', ['smol-toml'], () => import('zod'))).resolves.toHaveProperty('z');
    const broken = new SyntaxError('broken package');
    await expect(importOptional('x', ['x'], () => Promise.reject(broken))).rejects.toBe(broken);
    expect(isModuleNotFound(broken)).toBe(false);
    expect(isModuleNotFound(null)).toBe(false);
  });
});
