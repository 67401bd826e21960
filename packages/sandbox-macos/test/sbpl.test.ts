import { describe, expect, it } from 'vitest';
import { SbplParseError, SbplPathError } from '../src/errors.js';
import { parseSbpl, renderSbpl, sbplString } from '../src/sbpl.js';

describe('parseSbpl', () => {
  it('parses lists, symbols, numbers, strings, regexes and skips comments', () => {
    const forms = parseSbpl(
      '; hi\n(version 1)\n#| block\n(allow default) |#\n(allow file-read* (subpath "/a \\"b\\"") (regex #"^/dev/x[0-9]+$"))',
    );
    expect(forms).toHaveLength(2);
    expect(renderSbpl(forms[0]!)).toBe('(version 1)');
    const allow = forms[1]!;
    expect(allow.type).toBe('list');
    if (allow.type !== 'list') return;
    expect(allow.items.map((i) => i.type)).toEqual(['symbol', 'symbol', 'list', 'list']);
    const sub = allow.items[2]!;
    expect(sub.type === 'list' && sub.items[1]).toMatchObject({ type: 'string', value: '/a "b"' });
    const re = allow.items[3]!;
    expect(re.type === 'list' && re.items[1]).toMatchObject({ type: 'regex', value: '^/dev/x[0-9]+$' });
  });
  it('round-trips through renderSbpl', () => {
    const text = '(allow file-write* (require-all (subpath "/w") (require-not (subpath "/w/.git"))))';
    expect(renderSbpl(parseSbpl(text)[0]!)).toBe(text);
  });
  it('rejects unbalanced and unterminated input with an offset', () => {
    expect(() => parseSbpl('(allow default')).toThrow(SbplParseError);
    expect(() => parseSbpl('(allow))')).toThrow(/unexpected "\)"/);
    expect(() => parseSbpl('(literal "/x)')).toThrow(/unterminated string/);
    expect(() => parseSbpl('#| never closed')).toThrow(/block comment/);
    try {
      parseSbpl('(a) )');
    } catch (e) {
      expect((e as SbplParseError).offset).toBe(4);
      expect((e as SbplParseError).code).toBe('SBPL_PARSE_ERROR');
    }
  });
});

describe('sbplString', () => {
  it('escapes quotes and backslashes and parses back to the same value', () => {
    const raw = 'a "q" \\ b';
    const parsed = parseSbpl(`(x ${sbplString(raw)})`)[0]!;
    expect(parsed.type === 'list' && parsed.items[1]).toMatchObject({ type: 'string', value: raw });
  });
  it('refuses control characters instead of dropping them', () => {
    expect(() => sbplString('/a\nb')).toThrow(SbplPathError);
    expect(() => sbplString('/a\u0000b')).toThrow(SbplPathError);
  });
});
