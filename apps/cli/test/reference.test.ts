import { expect, it } from 'vitest';
import { COMMANDS } from '../src/commands.js';
import { GLOBAL_FLAGS, helpFor, optionsTable } from '../src/spec.js';

// docs/cli-reference.md is every command's --help, made from the same declarations as the parser
// and the completion, so the docs cannot drift from the command. After changing a command, run
// `pnpm --filter @codex/cli test -u` to rewrite it; CI fails while it is out of date.
it('docs/cli-reference.md is the --help of every command', async () => {
  const parts = [
    '# `codex` command reference',
    '',
    'Generated from the commands’ declarations by `apps/cli/test/reference.test.ts`; do not edit.',
    'The topic pages ([cli.md](cli.md) and the page of each package) explain the ideas behind them.',
    '',
    '## Global options',
    '',
    'They may come before or after the command name (before `--`).',
    '',
    '```',
    optionsTable(GLOBAL_FLAGS),
    '```',
  ];
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const { command } = await entry.load();
    parts.push('', `## codex ${name}`, '', `${entry.summary}.`, '', '```', helpFor(name, command), '```');
  }
  await expect(`${parts.join('\n')}\n`).toMatchFileSnapshot('../../../docs/cli-reference.md');
});
