import { initProject } from '@codex/core';
import { EXIT } from '../errors.js';
import { line } from '../output.js';
import { action, bool, type Command } from '../spec.js';

const WHAT = {
  created: 'created',
  overwritten: 'overwritten (--force)',
  unchanged: 'unchanged (already up to date)',
  kept: 'kept: it exists and differs; --force overwrites it, --dry-run shows the new content',
} as const;

export const command: Command = {
  help: `Writes $CODEX_HOME/config.toml (every key explained) and .codex/policy.toml in this directory
with allow rules for the build tools it finds (npm/pnpm/yarn scripts, cargo, go, pytest, make),
each rule explained. Existing files are never overwritten without --force; running it again
changes nothing. --dry-run prints what would be written.

A repository's policy only tightens the defaults until you pin it: run "codex policy trust"
after reading it (and again after every edit).`,
  action: action({
    flags: {
      force: bool('overwrite files that exist and differ'),
      'dry-run': bool('print what would be written; write nothing'),
    },
    run(ctx, { values }) {
      const dryRun = values['dry-run'] === true;
      const result = initProject({
        codexHome: ctx.codexHome,
        workspace: ctx.config.sandbox.workspace_roots?.[0] ?? ctx.cwd,
        force: values.force === true,
        dryRun,
      });
      if (ctx.json) {
        line(ctx.stdout, JSON.stringify({ dryRun, ...result }, null, 2));
        return EXIT.OK;
      }
      const found = result.presets.map((p) => `${p.id} (${p.evidence})`).join(', ');
      line(ctx.stdout, `build tools found: ${found || 'none (the policy has an example to edit)'}`);
      for (const f of result.files) {
        line(
          ctx.stdout,
          `${dryRun && f.action !== 'unchanged' && f.action !== 'kept' ? 'would be ' : ''}${WHAT[f.action]}: ${f.path}`,
        );
        if (dryRun && f.action !== 'unchanged') line(ctx.stdout, f.content.replace(/^/gm, '    '));
      }
      if (result.files.some((f) => f.action === 'created' || f.action === 'overwritten'))
        line(
          ctx.stdout,
          'next: read .codex/policy.toml, then run "codex policy trust" so its allow rules apply',
        );
      return EXIT.OK;
    },
  }),
};
