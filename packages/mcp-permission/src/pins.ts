import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { deferred } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import { PinStoreError } from './errors.js';

/** The parts of a tool definition that are pinned: anything a model reads or a call depends on. */
export interface PinnableTool {
  readonly name: string;
  readonly title?: string | undefined;
  readonly description?: string | undefined;
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
  readonly annotations?: unknown;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** SHA-256 (hex) of the tool's name, title, description, schemas and annotations, key order ignored. */
export function hashTool(tool: PinnableTool): string {
  const pinned = {
    name: tool.name,
    title: tool.title ?? null,
    description: tool.description ?? null,
    inputSchema: tool.inputSchema ?? null,
    outputSchema: tool.outputSchema ?? null,
    annotations: tool.annotations ?? null,
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(pinned)))
    .digest('hex');
}

export type PinStatus = 'new' | 'same' | 'changed';

const pinSchema = deferred(() =>
  z.object({
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    first_seen: z.string(),
    updated: z.string(),
  }),
);
const pinFileSchema = deferred(() =>
  z.strictObject({
    version: z.literal(1),
    servers: z.record(z.string(), z.record(z.string(), pinSchema)),
  }),
);
type PinFile = z.output<typeof pinFileSchema>;
export type ToolPin = z.output<typeof pinSchema>;

/**
 * Remembers a hash of every tool the first time it is seen. With a `path` the pins live in a JSON
 * file written atomically (temp file + rename); without one they live in memory only.
 * A pin file that cannot be read or parsed is an error, never silently replaced: an empty store
 * would re-approve every swapped tool.
 */
export class PinStore {
  readonly path: string | undefined;
  #data: PinFile;
  readonly #now: () => Date;

  constructor(options: { path?: string; now?: () => Date } = {}) {
    this.path = options.path;
    this.#now = options.now ?? (() => new Date());
    this.#data = this.path ? PinStore.#read(this.path) : { version: 1, servers: {} };
  }

  static #read(path: string): PinFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
      throw new PinStoreError(path, `cannot read pin file (${(error as NodeJS.ErrnoException).code})`, {
        cause: error,
      });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new PinStoreError(path, 'pin file is not valid JSON; fix or delete it to re-pin every tool', {
        cause: error,
      });
    }
    const parsed = pinFileSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PinStoreError(
        path,
        `invalid pin file at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      );
    }
    return parsed.data;
  }

  get(server: string, tool: string): ToolPin | undefined {
    return this.#data.servers[server]?.[tool];
  }

  /** Compares `hash` with the pin; a tool seen for the first time is pinned (and saved) at once. */
  check(server: string, tool: string, hash: string): PinStatus {
    const pin = this.get(server, tool);
    if (pin === undefined) {
      this.pin(server, tool, hash);
      return 'new';
    }
    return pin.hash === hash ? 'same' : 'changed';
  }

  /** Records `hash` as the approved definition of the tool. */
  pin(server: string, tool: string, hash: string): void {
    const now = this.#now().toISOString();
    // Re-read so that two proxies sharing the file do not drop each other's pins.
    if (this.path) this.#data = PinStore.#read(this.path);
    const tools = this.#data.servers[server] ?? {};
    this.#data.servers[server] = tools;
    const first = tools[tool]?.first_seen ?? now;
    tools[tool] = { hash, first_seen: first, updated: now };
    this.#save();
  }

  /** Forgets the pins of one server (or one of its tools); returns how many were removed. */
  forget(server: string, tool?: string): number {
    if (this.path) this.#data = PinStore.#read(this.path);
    const tools = this.#data.servers[server];
    if (!tools) return 0;
    let n = 0;
    if (tool === undefined) {
      n = Object.keys(tools).length;
      delete this.#data.servers[server];
    } else if (tools[tool]) {
      delete tools[tool];
      n = 1;
    }
    if (n > 0) this.#save();
    return n;
  }

  /** Every pin, by server and tool. */
  list(): Readonly<Record<string, Readonly<Record<string, ToolPin>>>> {
    if (this.path) this.#data = PinStore.#read(this.path);
    return structuredClone(this.#data.servers);
  }

  #save(): void {
    if (!this.path) return;
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, `${JSON.stringify(this.#data, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch (error) {
      throw new PinStoreError(this.path, `cannot write pin file (${(error as NodeJS.ErrnoException).code})`, {
        cause: error,
      });
    }
  }
}

/** The pin file's name in `$CODEX_HOME`. */
export const PINS_FILE = 'mcp-pins.json';

/**
 * The one pin store every codex path uses: persisted in `path` (resolved), default
 * `$CODEX_HOME/mcp-pins.json`, so a tool approved once stays pinned across runs and commands.
 */
export function openPinStore(codexHome: string, path?: string): PinStore {
  return new PinStore({ path: resolve(path ?? join(codexHome, PINS_FILE)) });
}
