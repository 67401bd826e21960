import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  HttpClient,
  LocalProvider,
  ResearchCache,
  type ResearchStage,
  renderMarkdown,
  research,
  type SearchProvider,
  SearxngProvider,
} from '@codex/deep-research';
import { parse } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line } from '../output.js';

function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).filter(Boolean);
}

export const command: Command = {
  summary: 'Research a question from local files or a SearXNG-style search API; prints a cited report.',
  usage: `Usage: codex research "<question>" [--provider local] [--corpus DIR]
       codex research "<question>" --provider searxng --endpoint URL   (needs a profile with network)
Options:
  --corpus DIR            folder of .txt/.md/.html files for the local provider (default: current folder)
  --provider NAME         local (default, works offline) or searxng
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
Progress goes to stderr when it is a terminal. Exit codes: 0 report written, 1 no sources or a
fetch/provider failure, 2 usage error. The searxng provider refuses under profiles without network.`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
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
    });
    const [question, extra] = positionals;
    if (question === undefined || question.trim() === '')
      throw new UsageError('missing the question to research');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (quote the question)`);
    const providerName = (values.provider as string | undefined) ?? 'local';
    const depth = positiveInt('depth', values.depth, 3);
    const maxSources = positiveInt('max-sources', values['max-sources'], 10);
    let maxDomainShare: number | undefined;
    if (values['max-domain-share'] !== undefined) {
      maxDomainShare = Number(values['max-domain-share']);
      if (!(maxDomainShare > 0 && maxDomainShare <= 1)) {
        throw new UsageError(`--max-domain-share must be in (0, 1], got "${values['max-domain-share']}"`);
      }
    }

    const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
    const onProgress = tty
      ? (stage: ResearchStage, detail: string) => line(ctx.stderr, `research: ${stage}: ${detail}`)
      : undefined;

    let provider: SearchProvider;
    let cache: ResearchCache | undefined;
    if (providerName === 'local') {
      if (values.endpoint !== undefined) throw new UsageError('--endpoint is only for --provider searxng');
      const dir = (values.corpus ?? values.dir ?? ctx.cwd) as string;
      provider = await LocalProvider.open({ dir: resolve(ctx.cwd, dir) });
    } else if (providerName === 'searxng') {
      const endpoint = values.endpoint as string | undefined;
      if (endpoint === undefined) throw new UsageError('--provider searxng needs --endpoint URL');
      if (values.corpus !== undefined || values.dir !== undefined) {
        throw new UsageError('--corpus is only for --provider local');
      }
      cache = values['no-cache']
        ? undefined
        : new ResearchCache({ dir: join(ctx.codexHome, 'cache', 'research') });
      const minIntervalMs =
        values['min-interval-ms'] === undefined
          ? 1000
          : positiveInt('min-interval-ms', values['min-interval-ms'], 1000);
      const http = new HttpClient({ profile: ctx.profile, minIntervalMs }, { cache });
      provider = await SearxngProvider.create(endpoint, http);
    } else {
      throw new UsageError(`unknown provider "${providerName}"; use local or searxng`);
    }

    const domains = { allow: list(values['allow-domain']), block: list(values['block-domain']) };
    const report = await research(question, {
      providers: [provider],
      depth,
      maxSources,
      domains,
      ...(maxDomainShare === undefined ? {} : { bias: { maxDomainShare } }),
      ...(onProgress ? { onProgress } : {}),
    }).finally(() => cache?.flush());
    const body = ctx.json ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report);
    const out = values.out as string | undefined;
    if (out === undefined) {
      ctx.stdout.write(body);
    } else {
      const path = resolve(ctx.cwd, out);
      await writeFile(path, body);
      if (ctx.json) line(ctx.stdout, JSON.stringify({ out: path, sources: report.sources.length }));
      else line(ctx.stdout, `wrote ${path} (${report.sources.length} sources)`);
    }
    return EXIT.OK;
  },
};
