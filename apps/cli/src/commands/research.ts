import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openResearchProvider, type ResearchProviderOptions } from '@codex/core';
import { type ResearchReport, type ResearchStage, renderMarkdown, research } from '@codex/deep-research';
import { ServerEnvError, serverEnvironment } from '@codex/mcp-permission';
import type { CliContext } from '../context.js';
import { EXIT, UsageError, usageOn } from '../errors.js';
import { line } from '../output.js';
import { action, bool, type Command, type Values as Flagged, type Flags, int, list, str } from '../spec.js';

const splitList = (values: readonly string[] = []) => values.flatMap((v) => v.split(',')).filter(Boolean);

const FLAGS = {
  provider: str('NAME', 'local (default, works offline), searxng, or mcp'),
  corpus: str('DIR', 'folder of .txt/.md/.html files for the local provider (default: current folder)'),
  dir: str('DIR'),
  'mcp-adapter': str(
    'NAME',
    "mcp: how to use the server's tools: filesystem (search_files + read_text_file\nunder --corpus) or memory (search_nodes); calls go through the MCP permission\nproxy (risk levels, approval under the profile, audit log)",
  ),
  'mcp-env': list(
    'NAME[=VALUE]',
    'environment for the MCP server (repeatable; default: a short harmless list)',
  ),
  endpoint: str('URL', 'SearXNG-style base URL; queries GET <URL>/search?q=…&format=json'),
  depth: int('N', 'most sub-queries (default 3)'),
  'max-sources': int('N', 'most sources cited (default 10)'),
  'allow-domain': list('D', 'only use these domains (repeatable, or comma-separated)'),
  'block-domain': list('D', 'never use these domains (repeatable, or comma-separated)'),
  'max-domain-share': str('X', 'warn when one domain exceeds this share of sources (default 0.3)'),
  'min-interval-ms': int('N', 'least time between two requests to one host (default 1000)'),
  'no-cache': bool('do not read or write the fetch cache ($CODEX_HOME/cache/research)'),
  out: str('FILE', 'write the report to FILE (JSON with --json) instead of stdout', 'o'),
} as const satisfies Flags;

type Values = Flagged<typeof FLAGS>;

function domainShare(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const share = Number(raw);
  if (!(share > 0 && share <= 1)) throw new UsageError(`--max-domain-share must be in (0, 1], got "${raw}"`);
  return share;
}

function searxng(values: Values): ResearchProviderChoice {
  const { endpoint } = values;
  if (endpoint === undefined) throw new UsageError('--provider searxng needs --endpoint URL');
  if (values.corpus !== undefined || values.dir !== undefined) {
    throw new UsageError('--corpus is only for --provider local or mcp');
  }
  const minIntervalMs = values['min-interval-ms'] ?? 1000;
  return { provider: 'searxng', endpoint, cache: !values['no-cache'], minIntervalMs };
}

function viaMcp(ctx: CliContext, values: Values, rest: readonly string[]): ResearchProviderChoice {
  const adapter = values['mcp-adapter'];
  if (adapter !== 'filesystem' && adapter !== 'memory') {
    throw new UsageError('--provider mcp needs --mcp-adapter filesystem or memory');
  }
  if (rest.length === 0) throw new UsageError('--provider mcp needs the server command after "--"');
  return {
    ...{ provider: 'mcp', adapter, command: [rest[0]!, ...rest.slice(1)] },
    corpus: resolve(ctx.cwd, values.corpus ?? values.dir ?? ctx.cwd),
    serverEnv: usageOn([ServerEnvError], () =>
      serverEnvironment(ctx.env, values['mcp-env'] ?? [], '--mcp-env'),
    ),
  };
}

type ResearchProviderChoice = DistributiveOmit<
  ResearchProviderOptions,
  'config' | 'codexHome' | 'env' | 'profile'
>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function providerFlags(ctx: CliContext, values: Values, rest: readonly string[]): ResearchProviderChoice {
  const name = values.provider ?? 'local';
  if (name !== 'mcp' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (name !== 'mcp' && values['mcp-adapter'] !== undefined) {
    throw new UsageError('--mcp-adapter is only for --provider mcp');
  }
  if (name === 'searxng') return searxng(values);
  if (name === 'mcp') return viaMcp(ctx, values, rest);
  if (name !== 'local') throw new UsageError(`unknown provider "${name}"; use local, searxng or mcp`);
  if (values.endpoint !== undefined) throw new UsageError('--endpoint is only for --provider searxng');
  return { provider: 'local', corpus: resolve(ctx.cwd, values.corpus ?? values.dir ?? ctx.cwd) };
}

async function writeReport(ctx: CliContext, report: ResearchReport, out: string | undefined): Promise<void> {
  const body = ctx.json ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report);
  if (out === undefined) {
    ctx.stdout.write(body);
    return;
  }
  const path = resolve(ctx.cwd, out);
  await writeFile(path, body);
  if (ctx.json) line(ctx.stdout, JSON.stringify({ out: path, sources: report.sources.length }));
  else line(ctx.stdout, `wrote ${path} (${report.sources.length} sources)`);
}

export const command: Command = {
  help: `--provider searxng needs a profile with network; --provider mcp takes the server command
after --. Network fetches and MCP tool calls are written to the audit log ([audit] in
config.toml). Progress goes to stderr when it is a terminal. Exit codes: 0 report written, 1 no
sources or a fetch/provider failure, 2 usage error.`,
  action: action({
    args: '<question>',
    flags: FLAGS,
    command: '[<server command…>]',
    async run(ctx, { values, args: [question], rest }) {
      if (question!.trim() === '') throw new UsageError('missing the question to research');
      const maxDomainShare = domainShare(values['max-domain-share']);
      const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
      const onProgress = tty
        ? (stage: ResearchStage, detail: string) => line(ctx.stderr, `research: ${stage}: ${detail}`)
        : undefined;
      const opened = await openResearchProvider({
        ...{ config: ctx.config, codexHome: ctx.codexHome, env: ctx.env, profile: ctx.profile },
        ...providerFlags(ctx, values, rest),
      });
      const domainLists = {
        allow: splitList(values['allow-domain']),
        block: splitList(values['block-domain']),
      };
      const report = await research(question!, {
        ...{
          providers: [opened.provider],
          depth: values.depth ?? 3,
          maxSources: values['max-sources'] ?? 10,
          domains: domainLists,
        },
        ...(maxDomainShare === undefined ? {} : { bias: { maxDomainShare } }),
        ...(onProgress ? { onProgress } : {}),
      }).finally(opened.close);
      await writeReport(ctx, report, values.out);
      return EXIT.OK;
    },
  }),
};
