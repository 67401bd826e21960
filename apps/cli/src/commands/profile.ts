import { resolveWorkspace, sandboxPolicyFor } from '@codex/core';
import { CAPABILITIES, parseProfile, profileAliases, SECURITY_PROFILES } from '@codex/security-profile';
import { parse } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, paint, table } from '../output.js';

export const command: Command = {
  summary: 'List the security profiles, or show the sandbox policy a profile yields for this workspace.',
  usage: `Usage: codex profile list [--json]
       codex profile show [<name>] [--json]   (default: the effective profile)`,
  async run(ctx, argv) {
    const { positionals } = parse(argv, {});
    const [action = 'list', name, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (action === 'list') {
      if (name !== undefined) throw new UsageError(`unexpected argument "${name}"`);
      const rows = SECURITY_PROFILES.map((p) => ({
        name: p,
        ...CAPABILITIES[p],
        aliases: profileAliases(p),
      }));
      if (ctx.json) {
        line(
          ctx.stdout,
          JSON.stringify({ default: 'offline', effective: ctx.profile, profiles: rows }, null, 2),
        );
        return EXIT.OK;
      }
      const header = ['PROFILE', 'WRITE', 'NETWORK', 'SPAWN', 'OPT-IN'];
      const body = rows.map((r) => [
        r.name === ctx.profile ? `${r.name} *` : r.name,
        r.write,
        r.network,
        r.spawn,
        r.requiresExplicitOptIn ? 'explicit' : '-',
      ]);
      line(ctx.stdout, table([header, ...body]));
      line(
        ctx.stdout,
        paint(ctx, 'dim', `* effective profile (from ${ctx.profileSource}); reads are allowed everywhere`),
      );
      return EXIT.OK;
    }
    if (action === 'show') {
      const profile = name === undefined ? ctx.profile : parseProfile(name);
      const explicit = name !== undefined || ctx.explicitProfile;
      const policy = sandboxPolicyFor(profile, resolveWorkspace(ctx.config, profile, ctx.cwd), explicit);
      line(ctx.stdout, JSON.stringify(policy, null, 2));
      return EXIT.OK;
    }
    throw new UsageError(`unknown action "${action}" for "codex profile"; use list or show`);
  },
};
