import type { Finding } from './context.js';
import { isDangerousName, type Word } from './shell.js';

/** Builtins that assign (or test) variables named by their arguments: declare, read, printf -v, …. */

type NameCheck = (words: readonly Word[], findings: Finding[]) => void;

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?$/;

function checkName(cmd: string, w: Word | undefined, findings: Finding[], what = 'assigns'): void {
  if (!w) return;
  if (!w.literal) {
    findings.push({
      decision: 'prompt',
      reason: `${cmd} ${what} a variable named by ${w.source}, which is not literal`,
    });
    return;
  }
  const eq = w.value.indexOf('=');
  const name = eq === -1 ? w.value : w.value.slice(0, eq).replace(/\+$/, '');
  if (!PLAIN_NAME.test(name)) {
    findings.push({
      decision: 'prompt',
      reason: `${cmd} ${what} ${JSON.stringify(name)}: a subscript is evaluated as arithmetic, which can run commands`,
    });
  } else if (isDangerousName(name.replace(/\[.*$/, ''))) {
    findings.push({
      decision: 'prompt',
      reason: `${cmd} ${what} ${name}, which changes what later commands run or load`,
    });
  }
}

/** Reads bash builtin options (`-ab`, `-a value`); calls `onOption` / `onOperand`. */
function builtinArgs(
  words: readonly Word[],
  withValue: string,
  onOption: (letter: string, value: Word | undefined, index: number) => void,
  onOperand: (w: Word, index: number) => void,
): void {
  let options = true;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (options && w.literal && w.value === '--') {
      options = false;
      continue;
    }
    if (options && w.literal && /^[-+][A-Za-z]/.test(w.value)) {
      for (let j = 1; j < w.value.length; j++) {
        const letter = w.value[j]!;
        if (withValue.includes(letter)) {
          const glued = w.value.slice(j + 1);
          const value = glued ? { ...w, value: glued, source: glued } : words[++i];
          onOption(letter, value, i);
          break;
        }
        onOption(letter, undefined, i);
      }
      continue;
    }
    options = false;
    onOperand(w, i);
  }
}

const DECLARE: NameCheck = (words, findings) => {
  const cmd = words[0]!.value;
  builtinArgs(
    words,
    '',
    (letter) => {
      if (letter === 'n' || letter === 'i')
        findings.push({
          decision: 'prompt',
          reason:
            letter === 'n'
              ? `${cmd} -n makes a name reference, whose target is evaluated later`
              : `${cmd} -i evaluates every later assignment as arithmetic`,
        });
    },
    (w) => checkName(cmd, w, findings, 'sets'),
  );
};

/** Builtins that assign (or test) variables named by their arguments. */
export const BUILTIN_NAMES = new Map<string, NameCheck>(
  Object.entries({
    declare: DECLARE,
    typeset: DECLARE,
    local: DECLARE,
    export: DECLARE,
    readonly: DECLARE,
    unset: (words, findings) =>
      builtinArgs(
        words,
        '',
        () => {},
        (w) => checkName('unset', w, findings, 'unsets'),
      ),
    printf: (words, findings) => {
      const first = words[1];
      if (!first) return;
      if (!first.literal && /^["']?-/.test(first.source))
        findings.push({ decision: 'prompt', reason: `printf option ${first.source} is not literal` });
      if (first.literal && first.value.startsWith('-v'))
        checkName(
          'printf -v',
          first.value.length > 2 ? { ...first, value: first.value.slice(2) } : words[2],
          findings,
        );
    },
    read: (words, findings) =>
      builtinArgs(
        words,
        'adinNptu',
        (letter, value) => {
          if (letter === 'a') checkName('read -a', value, findings);
        },
        (w) => checkName('read', w, findings),
      ),
    getopts: (words, findings) => checkName('getopts', words[2], findings),
    wait: (words, findings) =>
      builtinArgs(
        words,
        'p',
        (letter, value) => {
          if (letter === 'p') checkName('wait -p', value, findings);
        },
        () => {},
      ),
    hash: (words, findings) =>
      builtinArgs(
        words,
        'p',
        (letter) => {
          if (letter === 'p')
            findings.push({ decision: 'prompt', reason: 'hash -p makes a command name run another program' });
        },
        () => {},
      ),
    test: (words: readonly Word[], findings: Finding[]) => testNames('test', words, findings),
    '[': (words: readonly Word[], findings: Finding[]) => testNames('[', words, findings),
  } satisfies Record<string, NameCheck>),
);

function testNames(cmd: string, words: readonly Word[], findings: Finding[]): void {
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (!w.literal && /^["']?-/.test(w.source))
      findings.push({ decision: 'prompt', reason: `${cmd}: operator ${w.source} is not literal` });
    if (w.literal && (w.value === '-v' || w.value === '-R'))
      checkName(`${cmd} ${w.value}`, words[i + 1], findings, 'tests');
  }
}
