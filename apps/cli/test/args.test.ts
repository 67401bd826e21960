import { describe, expect, it } from 'vitest';
import { firstWord, intFlag } from '../src/args.js';

describe('intFlag', () => {
  it('absent is undefined; digits (with _ separators) within the range are the number', () => {
    expect(intFlag('fuel', undefined)).toBeUndefined();
    expect(intFlag('fuel', '1_000_000')).toBe(1_000_000);
    expect(intFlag('port', '0', { min: 0, max: 65535 })).toBe(0);
  });

  it('anything else is a usage error naming the flag and the range', () => {
    expect(() => intFlag('fuel', 'lots')).toThrow('--fuel must be a positive integer, got "lots"');
    expect(() => intFlag('depth', '0')).toThrow(/--depth must be a positive integer/);
    expect(() => intFlag('max-concurrent', '1025', { max: 1024 })).toThrow(
      '--max-concurrent must be an integer from 1 to 1024, got "1025"',
    );
    expect(() => intFlag('port', '-1', { min: 0, max: 65535 })).toThrow(/from 0 to 65535/);
  });
});

describe('firstWord', () => {
  it('skips the values of string options, global and own, short and long', () => {
    expect(firstWord(['--profile', 'serve', 'exec'], {})).toBe(2);
    expect(firstWord(['-a', 'never', '--json', 'serve'], {})).toBe(3);
    expect(firstWord(['--pins', 'p.json', 'pins', 'list'], { pins: { type: 'string' } })).toBe(2);
    expect(firstWord(['--http', 'serve'], { http: { type: 'boolean' } })).toBe(1);
  });

  it('stops at --, and is -1 when there is no word', () => {
    expect(firstWord(['--json', '--', 'ls'], {})).toBe(1);
    expect(firstWord(['--json', '-p', 'offline'], {})).toBe(-1);
    expect(firstWord([], {})).toBe(-1);
  });
});
