import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openResearchProvider, type ResearchProviderOptions } from '@codex/core';
import { type ResearchReport, type ResearchStage, renderMarkdown, research } from '@codex/deep-research';
import { ServerEnvError, serverEnvironment } from '@codex/mcp-permission';
import { intFlag, parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError, usageOn } from '../errors.js';
import { line } from '../output.js';

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).filter(Boolean);
}

const OPTIONS = {
  corpus: { type: 'string' },
  dir: { type: 'string' },
  provider: { type: 'string' },
  endpoint: { type: 'string' },
  depth: { type: 'string' },
  'max-sources': { type: 'string' },
  'allow-domain': { type: 'string', multiple: true },
  'block-domain': { type: 'string', multiple: true },
  'max-domain-share': { type: 'string' },
  'no-cache': { type: 'boolean' },
  'min-interval-ms': { type: 'string' },
  out: { type: 'string', short: 'o' },
  'mcp-adapter': { type: 'string' },
  'mcp-env': { type: 'string', multiple: true },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

function domainShare(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const share = Number(raw);
  if (!(share > 0 && share <= 1)) throw new UsageError(`--max-domain-share must be in (0, 1], got "${raw}"`);
  return share;
}

function searxng(values: Values): ResearchProviderChoice {
  const endpoint = values.endpoint as string | undefined;
  if (endpoint === undefined) throw new UsageError('--provider searxng needs --endpoint URL');
  if (values.corpus !== undefined || values.dir !== undefined) {
    throw new UsageError('--corpus is only for --provider local or mcp');
  }
  const minIntervalMs = intFlag('min-interval-ms', values['min-interval-ms']) ?? 1000;
  return { provider: 'searxng', endpoint, cache: !values['no-cache'], minIntervalMs };
}

function viaMcp(ctx: CliContext, values: Values, rest: readonly string[]): ResearchProviderChoice {
  const adapter = values['mcp-adapter'] as string | undefined;
  if (adapter !== 'filesystem' && adapter !== 'memory') {
    throw new UsageError('--provider mcp needs --mcp-adapter filesystem or memory');
  }
  if (rest.length === 0) throw new UsageError('--provider mcp needs the server command after "--"');
  return {
    ...{ provider: 'mcp', adapter, command: [rest[0]!, ...rest.slice(1)] },
    corpus: resolve(ctx.cwd, (values.corpus ?? values.dir ?? ctx.cwd) as string),
    serverEnv: usageOn([ServerEnvError], () =>
      serverEnvironment(ctx.env, (values['mcp-env'] as string[] | undefined) ?? [], '--mcp-env'),
    ),
  };
}

type ResearchProviderChoice = DistributiveOmit<
  ResearchProviderOptions,
  'config' | 'codexHome' | 'env' | 'profile'
>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function providerFlags(ctx: CliContext, values: Values, rest: readonly string[]): ResearchProviderChoice {
  const name = (values.provider as string | undefined) ?? 'local';
  if (name !== 'mcp' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (name !== 'mcp' && values['mcp-adapter'] !== undefined) {
    throw new UsageError('--mcp-adapter is only for --provider mcp');
  }
  if (name === 'searxng') return searxng(values);
  if (name === 'mcp') return viaMcp(ctx, values, rest);
  if (name !== 'local') throw new UsageError(`unknown provider "${name}"; use local, searxng or mcp`);
  if (values.endpoint !== undefined) throw new UsageError('--endpoint is only for --provider searxng');
  return { provider: 'local', corpus: resolve(ctx.cwd, (values.corpus ?? values.dir ?? ctx.cwd) as string) };
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
  summary: 'Research a question from local files or a SearXNG-style search API; prints a cited report.',
  usage: `Usage: codex research "<question>" [--provider local] [--corpus DIR]
       codex research "<question>" --provider searxng --endpoint URL   (needs a profile with network)
       codex research "<question>" --provider mcp --mcp-adapter filesystem|memory [--corpus DIR] -- <server command…>
Options:
  --corpus DIR            folder of .txt/.md/.html files for the local provider (default: current folder)
  --provider NAME         local (default, works offline), searxng, or mcp
  --mcp-adapter NAME      mcp: how to use the server's tools: filesystem (search_files + read_text_file
                          under --corpus) or memory (search_nodes); calls go through the MCP permission
                          proxy (risk levels, approval under the profile, audit log)
  --mcp-env NAME[=VALUE]  environment for the MCP server (repeatable; default: a short harmless list)
  --endpoint URL          SearXNG-style base URL; queries GET <URL>/search?q=…&format=json
  --depth N               most sub-queries (default 3)
  --max-sources N         most sources cited (default 10)
  --allow-domain D        only use these domains (repeatable, or comma-separated)
  --block-domain D        never use these domains (repeatable, or comma-separated)
  --max-domain-share X    warn when one domain exceeds this share of sources (default 0.3)
  --min-interval-ms N     least time between two requests to one host (default 1000)
  --no-cache              do not read or write the fetch cache ($CODEX_HOME/cache/research)
  -o, --out FILE          write the report to FILE (JSON with --json) instead of stdout
  --json                  the report as JSON
Network fetches and MCP tool calls are written to the audit log ([audit] in config.toml).
Progress goes to stderr when it is a terminal. Exit codes: 0 report written, 1 no sources or a
fetch/provider failure, 2 usage error. The searxng provider refuses under profiles without network.`,
  async run(ctx, argv) {
    const { values, positionals, rest } = parse(argv, OPTIONS);
    const [question, extra] = positionals;
    if (question === undefined || question.trim() === '')
      throw new UsageError('missing the question to research');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (quote the question)`);
    const depth = intFlag('depth', values.depth) ?? 3;
    const maxSources = intFlag('max-sources', values['max-sources']) ?? 10;
    const maxDomainShare = domainShare(values['max-domain-share']);
    const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
    const onProgress = tty
      ? (stage: ResearchStage, detail: string) => line(ctx.stderr, `research: ${stage}: ${detail}`)
      : undefined;
    const opened = await openResearchProvider({
      ...{ config: ctx.config, codexHome: ctx.codexHome, env: ctx.env, profile: ctx.profile },
      ...providerFlags(ctx, values, rest),
    });
    const domains = { allow: list(values['allow-domain']), block: list(values['block-domain']) };
    const report = await research(question, {
      ...{ providers: [opened.provider], depth, maxSources, domains },
      ...(maxDomainShare === undefined ? {} : { bias: { maxDomainShare } }),
      ...(onProgress ? { onProgress } : {}),
    }).finally(opened.close);
    await writeReport(ctx, report, values.out as string | undefined);
    return EXIT.OK;
  },
};
