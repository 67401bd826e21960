import { describe, expect, it } from 'vitest';
import { codexConfigSchema, deferred, parseConfig } from '../src/index.js';
import * as z from '../src/zod.js';

describe('deferred', () => {
  it('builds on first use, once', () => {
    let builds = 0;
    const schema = deferred(() => {
      builds += 1;
      return z.strictObject({ name: z.string() });
    });
    expect(builds).toBe(0);
    expect(schema.parse({ name: 'a' })).toEqual({ name: 'a' });
    expect(schema.safeParse({ name: 1 }).success).toBe(false);
    expect(builds).toBe(1);
  });

  it('stands for the built schema: instanceof, keys, shape, composition', () => {
    const inner = deferred(() => z.string().min(2));
    const outer = deferred(() => z.strictObject({ inner, list: z.array(inner).default([]) }));
    expect(outer instanceof z.ZodType).toBe(true);
    expect(Object.keys(outer.shape)).toEqual(['inner', 'list']);
    expect('parse' in outer).toBe(true);
    expect(Object.getPrototypeOf(outer)).toBe(Object.getPrototypeOf(z.strictObject({})));
    expect(outer.parse({ inner: 'ab' })).toEqual({ inner: 'ab', list: [] });
    expect(() => outer.parse({ inner: 'a' })).toThrow(z.ZodError);
    expect(() => outer.parse({ inner: 'ab', extra: 1 })).toThrow(/extra/);
    // Derived schemas are ordinary zod schemas.
    expect(outer.extend({ n: z.number() }).parse({ inner: 'xy', n: 1 })).toEqual({
      inner: 'xy',
      list: [],
      n: 1,
    });
    expect(inner.optional().parse(undefined)).toBeUndefined();
  });

  it('reports errors from the builder when first used, not at definition', () => {
    const broken = deferred<z.ZodType>(() => {
      throw new Error('bad schema');
    });
    expect(() => broken.parse(1)).toThrow('bad schema');
  });

  it('keeps the config schema working through the package API', () => {
    expect(codexConfigSchema.parse({}).profile).toBe('offline');
    expect(() => parseConfig({ sandbox: { nope: true } }, 'x.toml')).toThrow(/sandbox\.nope/);
  });
});
