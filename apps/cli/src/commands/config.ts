import type { CliContext } from '../context.js';
import { EXIT } from '../errors.js';
import { line, print } from '../output.js';
import { action, type Command } from '../spec.js';

export const command: Command = {
  help: "show prints the configuration after defaults, the file it came from and the effective\nprofile; path prints the file's path.",
  default: 'show',
  actions: {
    path: action({
      run(ctx) {
        line(ctx.stdout, ctx.configPath);
        return EXIT.OK;
      },
    }),
    show: action({ run: show }),
  },
};

function show(ctx: CliContext): number {
  const report = {
    path: ctx.configPath,
    exists: ctx.configExists,
    profile: ctx.profile,
    profileSource: ctx.profileSource,
    config: ctx.config,
    ignored: ctx.configIgnored,
  };
  print(ctx, report, () => [
    `# ${ctx.configPath}${ctx.configExists ? '' : ' (missing: defaults apply)'}`,
    `# effective profile: ${ctx.profile} (from ${ctx.profileSource})`,
    ...(ctx.configIgnored.length > 0
      ? [`# ignored (they configure the agent, not this layer): ${ctx.configIgnored.join(', ')}`]
      : []),
    JSON.stringify(ctx.config, null, 2),
  ]);
  return EXIT.OK;
}
