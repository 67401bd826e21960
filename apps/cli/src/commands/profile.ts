import { resolveWorkspace, sandboxPolicyFor } from '@codex/core';
import { CAPABILITIES, parseProfile, profileAliases, SECURITY_PROFILES } from '@codex/security-profile';
import type { CliContext } from '../context.js';
import { EXIT } from '../errors.js';
import { line, paint, print, table } from '../output.js';
import { action, type Command } from '../spec.js';

export const command: Command = {
  help: 'list shows the profiles and what each allows; show prints the sandbox policy a profile\n(default: the effective one) yields for this workspace, as JSON.',
  default: 'list',
  actions: {
    list: action({ run: list }),
    show: action({
      args: '[<name>]',
      run(ctx, { args: [name] }) {
        const profile = name === undefined ? ctx.profile : parseProfile(name);
        const explicit = name !== undefined || ctx.explicitProfile;
        const policy = sandboxPolicyFor(profile, resolveWorkspace(ctx.config, profile, ctx.cwd), explicit);
        line(ctx.stdout, JSON.stringify(policy, null, 2));
        return EXIT.OK;
      },
    }),
  },
};

function list(ctx: CliContext): number {
  const rows = SECURITY_PROFILES.map((p) => ({ name: p, ...CAPABILITIES[p], aliases: profileAliases(p) }));
  print(ctx, { default: 'offline', effective: ctx.profile, profiles: rows }, () => [
    table([
      ['PROFILE', 'WRITE', 'NETWORK', 'SPAWN', 'OPT-IN'],
      ...rows.map((r) => [
        r.name === ctx.profile ? `${r.name} *` : r.name,
        ...[r.write, r.network, r.spawn, r.requiresExplicitOptIn ? 'explicit' : '-'],
      ]),
    ]),
    paint(ctx, 'dim', `* effective profile (from ${ctx.profileSource}); reads are allowed everywhere`),
  ]);
  return EXIT.OK;
}
