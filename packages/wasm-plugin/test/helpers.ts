import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditEventInput, AuditSink } from '@codex/security-profile';
import { inject } from 'vitest';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Built by test/global-setup.ts from plugins/*.c and plugins/*.wat. */
export const PLUGINS = join(ROOT, 'plugins', 'build');

/**
 * Non-empty (the missing tools) when global-setup could not build the plugins: only outside
 * CI=true, where the files that run plugins use `describe.skipIf(NO_PLUGINS)`.
 */
export const NO_PLUGINS = inject('pluginToolchainMissing');

export function plugin(name: string): string {
  return join(PLUGINS, `${name}.wasm`);
}

/** A fresh transpile cache per test file, so cache hits and misses are observable. */
export function freshCacheDir(): string {
  return mkdtempSync(join(tmpdir(), 'codex-wasm-plugin-test-'));
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

export class MemoryAuditSink implements AuditSink {
  readonly events: AuditEventInput[] = [];
  async log(event: AuditEventInput): Promise<unknown> {
    this.events.push(event);
    return undefined;
  }
}
