import { describe, expect, it } from 'vitest';
import {
  action,
  bool,
  type Command,
  firstWord,
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
    expect(() => parseInput('x', a, ['f', 't', 'extra'])).toThrow(
      'unexpected argument "extra"; put the command after --',
    );
    const none = action({ run });
    expect(() => parseInput('y', none, ['--', 'ls'])).toThrow('"codex y" takes no command');
    const needs = action({ command: '<cmd…>', run });
    expect(() => parseInput('z', needs, [])).toThrow('missing command: codex z [options] -- <cmd…>');
    expect(parseInput('v', action({ args: '[<file>…]', run }), ['a', 'b', 'c']).args).toHaveLength(3);
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
