import { parse } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line } from '../output.js';

export const command: Command = {
  summary: 'Show the effective configuration (after defaults) and the file it was read from.',
  usage: `Usage: codex config show [--json]
       codex config path`,
  async run(ctx, argv) {
    const { positionals } = parse(argv, {});
    const [action = 'show', extra] = positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (action === 'path') {
      line(ctx.stdout, ctx.configPath);
      return EXIT.OK;
    }
    if (action !== 'show')
      throw new UsageError(`unknown action "${action}" for "codex config"; use show or path`);
    const report = {
      path: ctx.configPath,
      exists: ctx.configExists,
      profile: ctx.profile,
      profileSource: ctx.profileSource,
      config: ctx.config,
      ignored: ctx.configIgnored,
    };
    if (ctx.json) line(ctx.stdout, JSON.stringify(report, null, 2));
    else {
      line(ctx.stdout, `# ${ctx.configPath}${ctx.configExists ? '' : ' (missing: defaults apply)'}`);
      line(ctx.stdout, `# effective profile: ${ctx.profile} (from ${ctx.profileSource})`);
      if (ctx.configIgnored.length > 0)
        line(
          ctx.stdout,
          `# ignored (they configure the agent, not this layer): ${ctx.configIgnored.join(', ')}`,
        );
      line(ctx.stdout, JSON.stringify(ctx.config, null, 2));
    }
    return EXIT.OK;
  },
};
