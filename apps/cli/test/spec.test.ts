import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands.js';
import {
  action,
  actionsOf,
  bool,
  type Command,
  firstWord,
  GLOBAL_FLAGS,
  helpFor,
  int,
  intFlag,
  list,
  parseInput,
  pickAction,
  str,
} from '../src/spec.js';

const run = () => 0;

describe('intFlag', () => {
  it('digits (with _ separators) within the range are the number', () => {
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
  it('skips the values of string flags, global and own, short and long', () => {
    expect(firstWord(['--profile', 'serve', 'exec'], {})).toBe(2);
    expect(firstWord(['-a', 'never', '--json', 'serve'], {})).toBe(3);
    expect(firstWord(['--pins', 'p.json', 'pins', 'list'], { pins: str('FILE') })).toBe(2);
    expect(firstWord(['--http', 'serve'], { http: bool() })).toBe(1);
  });

  it('stops at --, and is -1 when there is no word', () => {
    expect(firstWord(['--json', '--', 'ls'], {})).toBe(1);
    expect(firstWord(['--json', '-p', 'offline'], {})).toBe(-1);
    expect(firstWord([], {})).toBe(-1);
  });
});

describe('parseInput', () => {
  const a = action({
    args: '<file> [<tool>]',
    command: '[<cmd…>]',
    flags: { n: int('N', 'a count', { max: 9 }), tag: list('T'), yes: bool() },
    run,
  });

  it('reads typed values, the positionals and the words after --, and the global flags', () => {
    const input = parseInput('x', a, [
      'f',
      '--n',
      '3',
      '--tag',
      'a',
      '--tag',
      'b',
      '--json',
      '--',
      'ls',
      '-l',
    ]);
    expect(input.values).toMatchObject({ n: 3, tag: ['a', 'b'], json: true });
    expect(input.args).toEqual(['f']);
    expect(input.rest).toEqual(['ls', '-l']);
    expect(input.globals.json).toBe(true);
  });

  it('checks the count of positionals and the command against the declaration', () => {
    expect(() => parseInput('x', a, [])).toThrow('missing <file> for "codex x"');
    expect(() => parseInput('x', a, ['f', 't', 'extra'])).toThrow(/^unexpected argument "extra"$/);
    expect(() => parseInput('exec', action({ command: '<cmd…>', run }), ['ls'])).toThrow(
      'unexpected argument "ls"; put the command after --',
    );
    const none = action({ run });
    expect(() => parseInput('y', none, ['--', 'ls'])).toThrow('"codex y" takes no command');
    const needs = action({ command: '<cmd…>', run });
    expect(() => parseInput('z', needs, [])).toThrow('missing command: codex z [options] -- <cmd…>');
    expect(parseInput('v', action({ args: '[<file>…]', run }), ['a', 'b', 'c']).args).toHaveLength(3);
  });

  it('an empty command after -- is a missing command; extra words get a hint', () => {
    const needs = action({ command: '<cmd…>', run });
    expect(() => parseInput('exec', needs, ['--', ''])).toThrow(
      'missing command: codex exec [options] -- <cmd…>',
    );
    const question = action({ args: '<question>', command: '[<server…>]', run });
    expect(() => parseInput('research', question, ['a', 'b'])).toThrow(
      'unexpected argument "b" (quote <question> if it has spaces)',
    );
  });

  it('a flag of another action of the command names the action it belongs to', () => {
    const others = { run: action({ flags: { fuel: int('N') }, run }) };
    const inspect = action({ flags: { manifest: str('FILE') }, run });
    expect(() => parseInput('plugin inspect', inspect, ['--fuel', '1'], others)).toThrow(
      '--fuel applies to "codex plugin run" only',
    );
    expect(() => parseInput('plugin inspect', inspect, ['--nope'], others)).toThrow(
      "unknown option '--nope'",
    );
  });

  it('integer errors name the flag as typed forms and the range in words', () => {
    const tail = action({ flags: { lines: int('N', 'n', { min: 0 }, 'n') }, run });
    expect(() => parseInput('audit tail', tail, ['-n', 'x'])).toThrow(
      '-n/--lines must be a non-negative integer, got "x"',
    );
    expect(() => intFlag('port', '5', { min: 10 })).toThrow(
      '--port must be an integer of at least 10, got "5"',
    );
  });

  it('flag errors are one-line usage errors; integers are checked', () => {
    expect(() => parseInput('x', a, ['f', '--bogus'])).toThrow(/^unknown option '--bogus'$/);
    expect(() => parseInput('x', a, ['f', '--n', '10'])).toThrow(
      '--n must be an integer from 1 to 9, got "10"',
    );
  });

  it('an own flag of a global name with another kind of value does not set the global', () => {
    const filter = action({ flags: { profile: list('P') }, run });
    const input = parseInput('audit query', filter, ['--profile', 'offline', '--profile', 'trusted']);
    expect(input.values.profile).toEqual(['offline', 'trusted']);
    expect(input.globals.profile).toBeUndefined();
    // the same kind of value: the global, described again for the command's help
    const same = action({ flags: { 'ask-for-approval': str('MODE', 'how', 'a') }, run });
    expect(parseInput('exec', same, ['-a', 'never']).globals['ask-for-approval']).toBe('never');
  });
});

describe('the declared commands', () => {
  it('a flag named like a global is that global described again (same kind of value) or listed here', async () => {
    // `codex audit query --profile P…` filters entries by profile (repeatable): it is not the
    // security profile, and with this rule it does not set it.
    const ownMeaning = new Set(['audit query --profile', 'audit stats --profile']);
    const clashes: string[] = [];
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const { command } = await entry.load();
      for (const [word, a] of actionsOf(command))
        for (const [long, f] of Object.entries(a.flags ?? {})) {
          const g = (GLOBAL_FLAGS as Record<string, { type: string; multiple?: boolean; short?: string }>)[
            long
          ];
          if (!g) continue;
          const same = g.type === f.type && g.multiple === f.multiple && g.short === f.short;
          const label = `${name}${word ? ` ${word}` : ''} --${long}`;
          if (!same && !ownMeaning.has(label)) clashes.push(label);
        }
    }
    expect(clashes).toEqual([]);
  });

  it('every flag of every command has a help line or is an old spelling of one that has', async () => {
    const oldSpellings = new Set(['timeout-ms', 'memory-mb', 'dir']);
    for (const [, entry] of Object.entries(COMMANDS)) {
      const { command } = await entry.load();
      for (const [, a] of actionsOf(command))
        for (const [long, f] of Object.entries(a.flags ?? {}))
          if (!f.help) expect(oldSpellings).toContain(long);
    }
  });

  it('every line of every --help fits in 100 columns', async () => {
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const { command } = await entry.load();
      const long = helpFor(name, command)
        .split('\n')
        .filter((l) => l.length > 100);
      expect(long, name).toEqual([]);
    }
  });
});

describe('pickAction and helpFor', () => {
  const cmd: Command = {
    help: 'More text.',
    default: 'list',
    actions: {
      list: action({ flags: { all: bool('everything') }, run }),
      forget: action({ args: '<server>', flags: { pins: str('FILE', 'the store') }, run }),
    },
  };

  it('finds the action past flags and their values; the default when none is named', () => {
    const [, rest, word] = pickAction('mcp', cmd, ['--pins', 'p.json', 'forget', 's']);
    expect(word).toBe('forget');
    expect(rest).toEqual(['--pins', 'p.json', 's']);
    expect(pickAction('mcp', cmd, ['--all'])[2]).toBe('list');
    expect(() => pickAction('mcp', cmd, ['nosuch'])).toThrow(
      'unknown action "nosuch" for "codex mcp"; use list or forget',
    );
    expect(() => pickAction('mcp', { ...cmd, default: undefined } as Command, [])).toThrow(
      'missing action for "codex mcp"; use list or forget',
    );
  });

  it('the help has a synopsis per action and every described flag, then the text', () => {
    const help = helpFor('mcp', cmd);
    expect(help).toMatch(/^Usage: codex mcp list \[--all\]\n {7}codex mcp forget <server> \[--pins FILE\]\n/);
    expect(help).toMatch(/ {4}--all {7,}everything\n/);
    expect(help).toMatch(/ {4}--pins FILE +the store\n/);
    expect(help).toContain('More text.');
  });
});
