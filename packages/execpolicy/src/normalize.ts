import type { Finding } from './context.js';
import { analyseOptions, WRAPPER_SPECS } from './options.js';
import { isDangerousName, type Word } from './shell.js';

/** Normalising a command: wrappers (env, timeout, xargs, …), nested shells (`bash -c`), command names. */

export const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'busybox-sh']);
/** Only root-owned system directories name the real tool; `/usr/local/bin` is often user-writable. */
const STANDARD_BIN = /^\/(usr\/)?s?bin\/[^/]+$/;

export const WRAPPERS = new Set(Object.keys(WRAPPER_SPECS));

const XARGS_INPUT: Word = { value: '{xargs input}', literal: false, tilde: false, source: '{xargs input}' };

/**
 * Strips wrappers that run their operand as a command (env, time, nice, nohup, timeout, command,
 * builtin, exec, xargs, stdbuf), reading their options with the wrapper's own option table.
 */
export function unwrap(
  words: readonly Word[],
  findings: Finding[],
  write: (w: Word, what: string) => void,
): readonly Word[] {
  let w = words;
  for (let guard = 0; guard < 16 && w.length > 0; guard++) {
    const head = w[0]!;
    if (!head.literal) return w;
    const name = commandName(head.value);
    const spec = WRAPPER_SPECS[name];
    if (!spec || !Object.hasOwn(WRAPPER_SPECS, name)) return w;
    const analysis = analyseOptions(name, spec, w);
    for (const f of analysis.findings) {
      if (f.effect === 'write' && f.value) write(f.value, f.reason);
      else findings.push({ decision: 'prompt', reason: f.reason });
    }
    if (findings.some((f) => f.decision === 'prompt' && f.reason.includes('splits a string'))) return [];
    if (name === 'command' && (analysis.seen.has('-v') || analysis.seen.has('-V'))) {
      findings.push({ decision: 'allow', reason: 'command -v only looks a name up' });
      return [];
    }
    let i = analysis.firstOperand;
    if (name === 'timeout') i += 1; // the duration
    if (name === 'env') {
      while (i < w.length && w[i]!.literal && /^[^=]+=/.test(w[i]!.value)) {
        const varName = w[i]!.value.slice(0, w[i]!.value.indexOf('='));
        if (isDangerousName(varName) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(varName))
          findings.push({
            decision: 'prompt',
            reason: `env sets ${varName}, which changes what the command runs or loads`,
          });
        i++;
      }
      if (i < w.length && !w[i]!.literal) {
        findings.push({
          decision: 'prompt',
          reason: `env: ${w[i]!.source} may be an assignment or a command`,
        });
      }
    }
    if (name === 'xargs') {
      if (i >= w.length) return [{ value: 'echo', literal: true, tilde: false, source: 'xargs' }];
      return [...w.slice(i), XARGS_INPUT];
    }
    w = w.slice(i);
  }
  return w;
}

type NestedShell = { kind: 'script'; script: string } | { kind: 'other'; reason: string };

/** Finds the script of `bash -c 'script'`, `sh -lc …`, `zsh -e -c …`. */
export function shellScript(words: readonly Word[]): NestedShell {
  const name = words[0]!.value;
  let hasC = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (!w.literal) return { kind: 'other', reason: `${name} with a non-literal argument ${w.source}` };
    const v = w.value;
    if (v === '--' || v === '-') continue;
    if (/^-[a-zA-Z]+$/.test(v)) {
      if (v.includes('o') || v.includes('O')) i++; // -o option / -O shopt take a value
      if (v.includes('c')) hasC = true;
      if (v.includes('s') || v.includes('i'))
        return { kind: 'other', reason: `${name} ${v} reads commands from stdin or runs interactively` };
      continue;
    }
    if (/^\+[a-zA-Z]+$/.test(v)) continue;
    if (v === '--login' || v === '--noprofile' || v === '--norc' || v === '--posix' || v === '--restricted')
      continue;
    if (v.startsWith('--')) return { kind: 'other', reason: `${name} ${v} is not understood` };
    if (hasC) return { kind: 'script', script: v };
    return { kind: 'other', reason: `${name} runs the script file ${v}, which the engine cannot see` };
  }
  if (hasC) return { kind: 'other', reason: `${name} -c without a script` };
  return { kind: 'other', reason: `${name} reads commands from stdin` };
}

/** `/usr/bin/rm` → `rm`; other paths (`./rm`) stay as written, so they are unknown commands. */
export function commandName(value: string): string {
  if (!value.includes('/')) return value;
  return STANDARD_BIN.test(value) ? value.slice(value.lastIndexOf('/') + 1) : value;
}
