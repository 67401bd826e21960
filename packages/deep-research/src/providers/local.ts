import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from '@codex/security-profile/zod';
import MiniSearch from 'minisearch';
import { domainOf } from '../bias.js';
import { CorpusError } from '../errors.js';
import { extractMainText } from '../extract.js';
import { parseOptions } from '../options.js';
import { processSearchTerm } from '../text.js';
import type { SearchHit, SearchOptions, SearchProvider, SourceDocument } from './types.js';

/** Dependency folders, virtual environments and build outputs: not the user's documents. */
export const DEFAULT_IGNORED_DIRS = [
  'node_modules',
  'bower_components',
  'vendor',
  'venv',
  '__pycache__',
  'site-packages',
  'target',
  'dist',
  'build',
  'out',
  'coverage',
  'CVS',
] as const;

const SNIFF_BYTES = 8192;
const TRACE_LINE =
  /^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?:\d+:\d+:\d+(?:\.\d+)?\s+)?[a-z_][a-z0-9_]*\(.*\)\s+=\s+(?:-?\d+|0x[0-9a-f]+|\?)/;

/** Why `text` looks like machine output rather than a document, or undefined. */
export function machineOutputReason(text: string): string | undefined {
  const head = text.slice(0, SNIFF_BYTES);
  if (head.includes('\u0000')) return 'binary (NUL bytes)';
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) control++;
  }
  if (head.length > 0 && control / head.length > 0.1) return 'binary (control characters)';
  const lines = head
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .slice(0, 50);
  const traced = lines.filter(
    (l) => TRACE_LINE.test(l) || /^\+\+\+ (?:exited|killed)|^--- SIG/.test(l),
  ).length;
  if (lines.length >= 3 && traced / lines.length > 0.5) return 'a system-call trace (strace output)';
  return undefined;
}

export const localProviderOptionsSchema = z
  .object({
    /** Folder to index (recursively). */
    dir: z.string().min(1),
    /** File extensions indexed. Default: text, Markdown and HTML. */
    extensions: z
      .array(z.string().regex(/^\.[a-z0-9]+$/i))
      .default(['.txt', '.md', '.markdown', '.html', '.htm']),
    /** Files larger than this are skipped. Default 5 MiB. */
    maxFileBytes: z
      .number()
      .int()
      .positive()
      .default(5 * 1024 * 1024),
    /**
     * Folder names never entered (hidden ones, such as `.git`, never are). Default: dependency
     * folders and build outputs ({@link DEFAULT_IGNORED_DIRS}).
     */
    ignoreDirs: z.array(z.string().min(1)).default([...DEFAULT_IGNORED_DIRS]),
    /**
     * Skip files that are machine output rather than documents: binary-looking content (a NUL
     * byte or mostly control characters in the first 8 KiB) and system-call traces (strace
     * dumps). Default true.
     */
    skipMachineOutput: z.boolean().default(true),
    /** Most files indexed. Default 20,000. */
    maxFiles: z.number().int().positive().default(20_000),
  })
  .strict();
export type LocalProviderOptionsInput = z.input<typeof localProviderOptionsSchema>;

interface IndexedFile {
  id: number;
  url: string;
  path: string;
  title: string;
  text: string;
}

/**
 * The embedded, offline provider: indexes a folder of text, Markdown and HTML files with
 * MiniSearch (BM25+ scoring) and serves their text. Needs no network under any profile.
 */
export class LocalProvider implements SearchProvider {
  readonly name = 'local';
  readonly requiresNetwork = false;
  readonly dir: string;
  readonly files: number;
  readonly skipped: { path: string; reason: string }[];
  private readonly index: MiniSearch<IndexedFile>;
  private readonly byUrl: Map<string, IndexedFile>;
  private readonly docs: IndexedFile[];

  private constructor(dir: string, docs: IndexedFile[], skipped: { path: string; reason: string }[]) {
    this.dir = dir;
    this.files = docs.length;
    this.skipped = skipped;
    this.index = new MiniSearch<IndexedFile>({
      fields: ['title', 'text'],
      storeFields: [],
      processTerm: processSearchTerm,
      searchOptions: { boost: { title: 2 }, fuzzy: 0 },
    });
    this.index.addAll(docs);
    this.byUrl = new Map(docs.map((d) => [d.url, d]));
    this.docs = docs;
  }

  /** Walks `dir`, reads and extracts every matching file, and builds the index. */
  static async open(options: LocalProviderOptionsInput): Promise<LocalProvider> {
    const o = parseOptions(localProviderOptionsSchema, options, 'local provider options');
    const dir = resolve(o.dir);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(dir);
    } catch (error) {
      throw new CorpusError(dir, 'cannot read the corpus folder', { cause: error });
    }
    if (!info.isDirectory()) throw new CorpusError(dir, 'not a folder');
    const exts = new Set(o.extensions.map((e) => e.toLowerCase()));
    const docs: IndexedFile[] = [];
    const skipped: { path: string; reason: string }[] = [];
    const walk = async (folder: string): Promise<void> => {
      const entries = await readdir(folder, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        if (docs.length >= o.maxFiles) return;
        if (entry.name.startsWith('.')) continue;
        const path = join(folder, entry.name);
        if (entry.isDirectory()) {
          if (!o.ignoreDirs.includes(entry.name)) await walk(path);
        } else if (entry.isFile() && exts.has(extname(entry.name).toLowerCase())) {
          const size = (await stat(path)).size;
          if (size > o.maxFileBytes) {
            skipped.push({ path, reason: `larger than ${o.maxFileBytes} bytes` });
            continue;
          }
          const raw = await readFile(path, 'utf8');
          const machine = o.skipMachineOutput ? machineOutputReason(raw) : undefined;
          if (machine) {
            skipped.push({ path, reason: machine });
            continue;
          }
          const isHtml = /\.html?$/i.test(entry.name);
          const page = isHtml ? extractMainText(raw) : { title: firstHeading(raw), text: raw };
          if (page.text.trim().length === 0) {
            skipped.push({ path, reason: 'no text' });
            continue;
          }
          docs.push({
            id: docs.length,
            url: pathToFileURL(path).href,
            path,
            title: page.title || relative(dir, path).split(sep).join('/'),
            text: page.text,
          });
        }
      }
    };
    await walk(dir);
    if (docs.length === 0) throw new CorpusError(dir, `no ${[...exts].join('/')} files with text`);
    return new LocalProvider(dir, docs, skipped);
  }

  async search(query: string, options: SearchOptions): Promise<SearchHit[]> {
    const results = this.index.search(query, { combineWith: 'OR' });
    return results.slice(0, options.limit).map((r) => {
      const doc = this.docById(r.id as number);
      return {
        url: doc.url,
        title: doc.title,
        snippet: doc.text.slice(0, 200).replace(/\s+/g, ' '),
        provider: this.name,
        score: r.score,
      };
    });
  }

  private docById(id: number): IndexedFile {
    const doc = this.docs[id];
    if (!doc) throw new CorpusError(this.dir, `index entry ${id} has no document`);
    return doc;
  }

  async fetch(hit: SearchHit): Promise<SourceDocument> {
    const doc = this.byUrl.get(hit.url);
    if (!doc) throw new CorpusError(this.dir, `${hit.url} is not in this corpus`);
    return {
      url: doc.url,
      title: doc.title,
      text: doc.text,
      provider: this.name,
      domain: domainOf(doc.url, this.dir),
      fromCache: false,
    };
  }
}

function firstHeading(text: string): string {
  const md = /^#\s+(.+)$/m.exec(text);
  if (md) return md[1]!.trim();
  const first = text.split('\n').find((l) => l.trim().length > 0);
  return (first ?? '').trim().slice(0, 120);
}
