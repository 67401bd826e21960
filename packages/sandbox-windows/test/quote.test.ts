import { describe, expect, it } from 'vitest';
import {
  buildWindowsCommandLine,
  isBatchFile,
  parseWindowsCommandLine,
  quoteWindowsArg,
  quoteWindowsProgram,
  resolveWindowsCommand,
} from '../src/quote.js';

// Expected encodings written out by hand from the MSVCRT / CommandLineToArgvW rules.
const TABLE: [string, string][] = [
  ['plain', 'plain'],
  ['', '""'],
  ['a b', '"a b"'],
  ['tab\there', '"tab\there"'],
  ['new\nline', '"new\nline"'],
  ['a"b', '"a\\"b"'],
  ['"', '"\\""'],
  ['""', '"\\"\\""'],
  ['C:\\path\\', 'C:\\path\\'], // no space: untouched, trailing backslash kept as is
  ['C:\\with space\\', '"C:\\with space\\\\"'], // trailing backslash doubled before the closing quote
  ['a\\"b', '"a\\\\\\"b"'], // backslash before a quote: doubled, plus the quote's own escape
  ['a\\\\"b', '"a\\\\\\\\\\"b"'],
  ['\\\\server\\share', '\\\\server\\share'],
  ['x\\y z', '"x\\y z"'], // backslashes not before a quote stay single
  ['%PATH%', '%PATH%'], // no cmd.exe here: % is ordinary for CreateProcess
  ['a&b|c<d>e^f', 'a&b|c<d>e^f'],
  ['ünïcødé ✓', '"ünïcødé ✓"'],
  ['trailing space ', '"trailing space "'],
  ['\\', '\\'],
  ['\\ ', '"\\ "'],
  [' \\', '" \\\\"'],
];

describe('quoteWindowsArg', () => {
  for (const [raw, quoted] of TABLE) {
    it(`${JSON.stringify(raw)} → ${quoted}`, () => {
      expect(quoteWindowsArg(raw)).toBe(quoted);
    });
  }
  it('refuses NUL', () => {
    expect(() => quoteWindowsArg('a\0b')).toThrow(expect.objectContaining({ code: 'WINDOWS_QUOTING' }));
  });
});

describe('round trip through parseWindowsCommandLine', () => {
  it('every table entry, alone and together', () => {
    const args = TABLE.map(([raw]) => raw);
    for (const a of args) expect(parseWindowsCommandLine(`prog ${quoteWindowsArg(a)}`)).toEqual(['prog', a]);
    expect(parseWindowsCommandLine(buildWindowsCommandLine(['C:\\bin\\x.exe', ...args]))).toEqual([
      'C:\\bin\\x.exe',
      ...args,
    ]);
  });
  it('5000 random arguments from a hostile alphabet', () => {
    const alphabet = ['a', ' ', '\t', '"', '\\', '\\\\', '\\"', '"\\', 'é', '&', '%', '^'];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      const args = Array.from({ length: 1 + rand(4) }, () =>
        Array.from({ length: rand(8) }, () => alphabet[rand(alphabet.length)]).join(''),
      );
      const line = buildWindowsCommandLine(['C:\\Program Files\\t.exe', ...args]);
      expect(parseWindowsCommandLine(line)).toEqual(['C:\\Program Files\\t.exe', ...args]);
    }
  });
  it('the parser follows CommandLineToArgvW on hand-written lines', () => {
    expect(parseWindowsCommandLine('"C:\\a b\\p.exe" x "y z" \\\\"q\\" r')).toEqual([
      'C:\\a b\\p.exe',
      'x',
      'y z',
      '\\q" r',
    ]);
    expect(parseWindowsCommandLine('p a\\\\\\"b c')).toEqual(['p', 'a\\"b', 'c']);
    expect(parseWindowsCommandLine('p "a""b"')).toEqual(['p', 'a"b']);
    expect(parseWindowsCommandLine('p   spaced\t\targs  ')).toEqual(['p', 'spaced', 'args']);
  });
});

describe('program names', () => {
  it('are quoted only for spaces and never escaped', () => {
    expect(quoteWindowsProgram('C:\\Windows\\System32\\where.exe')).toBe('C:\\Windows\\System32\\where.exe');
    expect(quoteWindowsProgram('C:\\Program Files\\Git\\bin\\git.exe')).toBe(
      '"C:\\Program Files\\Git\\bin\\git.exe"',
    );
    expect(quoteWindowsProgram('C:\\dir\\')).toBe('C:\\dir\\');
  });
  it('refuse quotes and empty names', () => {
    expect(() => quoteWindowsProgram('C:\\a"b.exe')).toThrow(/cannot contain a quote/);
    expect(() => quoteWindowsProgram('')).toThrow(/empty/);
  });
});

describe('batch files (cmd.exe parsing cannot be quoted safely)', () => {
  it('recognises .bat and .cmd in any case', () => {
    expect(isBatchFile('C:\\x\\npm.CMD')).toBe(true);
    expect(isBatchFile('run.bat')).toBe(true);
    expect(isBatchFile('C:\\x\\node.exe')).toBe(false);
    expect(isBatchFile('C:\\x.bat\\node.exe')).toBe(false);
  });
  it('runs them through cmd.exe /d /s /c with plain arguments', () => {
    expect(buildWindowsCommandLine(['C:\\Program Files\\nodejs\\npm.cmd', 'install', 'left pad'])).toBe(
      'C:\\Windows\\System32\\cmd.exe /d /s /c ""C:\\Program Files\\nodejs\\npm.cmd" install "left pad""',
    );
  });
  for (const bad of ['"', '%PATH%', '!x!', 'a^b', 'a&calc', 'a|b', '<in', '>out', '(x)', 'a\nb', 'a\rb']) {
    it(`refuses ${JSON.stringify(bad)} as an argument`, () => {
      expect(() => buildWindowsCommandLine(['C:\\t\\x.bat', bad])).toThrow(
        expect.objectContaining({ code: 'WINDOWS_QUOTING', argument: bad }),
      );
    });
  }
});

describe('resolveWindowsCommand', () => {
  const files = new Set([
    'C:\\Windows\\System32\\where.exe',
    'C:\\Program Files\\nodejs\\node.exe',
    'C:\\Program Files\\nodejs\\npm.cmd',
    'C:\\work\\git.exe',
  ]);
  const exists = (p: string) => files.has(p);
  const env = { Path: 'C:\\Windows\\System32;C:\\Program Files\\nodejs\\', PATHEXT: '.COM;.EXE;.BAT;.CMD' };
  it('searches PATH with PATHEXT, case-insensitive variable names', () => {
    expect(resolveWindowsCommand('node', env, exists)).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(resolveWindowsCommand('npm', env, exists)).toBe('C:\\Program Files\\nodejs\\npm.cmd');
    expect(resolveWindowsCommand('where.exe', env, exists)).toBe('C:\\Windows\\System32\\where.exe');
  });
  it('never searches the current directory (a workspace cannot plant git.exe)', () => {
    expect(() => resolveWindowsCommand('git', env, exists)).toThrow(
      expect.objectContaining({ code: 'WINDOWS_COMMAND_NOT_FOUND' }),
    );
    expect(resolveWindowsCommand('C:\\work\\git', env, exists)).toBe('C:\\work\\git.exe');
  });
});
