import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deferred } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import { type Checkpoint, type CheckpointProblem, checkCheckpointLine } from '../checkpoint.js';
import { readLines } from '../lines.js';
import { type VerifyResult, verify } from '../verify.js';
import { OTLP_ATTRIBUTES } from './attributes.js';

/** One host's (and log's) part of a merged export, verified on its own. */
export interface HostVerifyResult {
  readonly host: string;
  readonly log: string;
  /** The host's chain checked against its signed checkpoints; problem lines are export lines. */
  readonly result: VerifyResult;
  readonly checkpoints: number;
  readonly checkpointProblem?: CheckpointProblem;
  /** Records received more than once with identical bytes (OTLP retries); not tampering. */
  readonly duplicates: number;
}

export interface ExportVerifyResult {
  readonly file: string;
  readonly hosts: readonly HostVerifyResult[];
  /** A line of the export that is not an OTLP logs request, or a record that is not ours. */
  readonly problem?: { readonly line: number; readonly message: string };
}

const anyValue = deferred(() =>
  z.object({
    stringValue: z.string().optional(),
    intValue: z.union([z.string(), z.number()]).optional(),
  }),
);
const keyValue = deferred(() => z.object({ key: z.string(), value: anyValue.optional() }));
const logRecord = deferred(() =>
  z.object({ body: anyValue.optional(), attributes: z.array(keyValue).optional() }),
);
const requestSchema = deferred(() =>
  z.object({
    resourceLogs: z.array(
      z.object({
        resource: z.object({ attributes: z.array(keyValue).optional() }).optional(),
        scopeLogs: z.array(z.object({ logRecords: z.array(logRecord).optional() })).optional(),
      }),
    ),
  }),
);

const attr = (list: readonly z.infer<typeof keyValue>[] | undefined, key: string) => {
  const v = list?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? undefined : String(v.intValue));
};

interface HostData {
  host: string;
  log: string;
  entries: Map<number, { text: string; line: number }>;
  checkpoints: { text: string; line: number }[];
  duplicates: number;
  conflict?: { line: number; seq: number };
}

/**
 * Verifies a merged multi-host export: JSON lines, each an OTLP `ExportLogsServiceRequest` in
 * its JSON form, as an OpenTelemetry Collector's file exporter writes them. Records are grouped
 * by `host.name` and `codex.audit.log`; each host's entries are put in seq order (batches from
 * several processes may interleave) and its chain verified against its own checkpoints, which
 * must be signed by one of the `trusted` keys and name that host. A dropped or altered record is
 * named with its host, seq and export line.
 *
 * Memory: the entries of the export are held while grouping (one string per record).
 */
export async function verifyExport(
  file: string,
  options: { trusted: ReadonlyMap<string, KeyObject>; hmacKey?: string | Uint8Array },
): Promise<ExportVerifyResult> {
  const hosts = new Map<string, HostData>();
  for await (const l of readLines([file])) {
    if ('unreadable' in l)
      return { file, hosts: [], problem: { line: 0, message: `cannot read ${file} (${l.code})` } };
    if (l.text === '' && !l.tooLong) continue;
    let json: unknown;
    try {
      json = JSON.parse(l.text);
    } catch {
      return {
        file,
        hosts: [],
        problem: { line: l.line, message: l.tooLong ? 'line longer than 16 MiB' : 'not JSON' },
      };
    }
    const req = requestSchema.safeParse(json);
    if (!req.success)
      return {
        file,
        hosts: [],
        problem: { line: l.line, message: 'not an OTLP logs request (resourceLogs)' },
      };
    for (const rl of req.data.resourceLogs) {
      const host = attr(rl.resource?.attributes, 'host.name') ?? '(no host.name)';
      for (const sl of rl.scopeLogs ?? []) {
        for (const rec of sl.logRecords ?? []) {
          const kind = attr(rec.attributes, OTLP_ATTRIBUTES.kind);
          if (kind !== 'entry' && kind !== 'checkpoint') continue; // other telemetry in the same store
          const log = attr(rec.attributes, OTLP_ATTRIBUTES.log) ?? 'audit.jsonl';
          const body = rec.body?.stringValue;
          if (body === undefined)
            return {
              file,
              hosts: [],
              problem: { line: l.line, message: `a ${kind} record of host ${host} has no string body` },
            };
          const id = `${host}\u0000${log}`;
          let h = hosts.get(id);
          if (h === undefined) {
            h = { host, log, entries: new Map(), checkpoints: [], duplicates: 0 };
            hosts.set(id, h);
          }
          if (kind === 'checkpoint') {
            h.checkpoints.push({ text: body, line: l.line });
            continue;
          }
          const seq = Number(/^\{"v":\d+,"seq":(\d+),/.exec(body)?.[1] ?? Number.NaN);
          const key = Number.isSafeInteger(seq) ? seq : -l.line; // unparseable: kept, verify names it
          const seen = h.entries.get(key);
          if (seen === undefined) h.entries.set(key, { text: body, line: l.line });
          else if (seen.text === body) h.duplicates++;
          else h.conflict ??= { line: l.line, seq };
        }
      }
    }
  }
  const out: HostVerifyResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'codex-audit-export-'));
  try {
    for (const h of hosts.values()) out.push(await verifyHost(h, dir, options));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { file, hosts: out };
}

async function verifyHost(
  h: HostData,
  dir: string,
  options: { trusted: ReadonlyMap<string, KeyObject>; hmacKey?: string | Uint8Array },
): Promise<HostVerifyResult> {
  // Checkpoints: each signed by a trusted key, for this host and log.
  const heads: Checkpoint[] = [];
  let cpProblem: CheckpointProblem | undefined;
  for (const c of h.checkpoints) {
    const r = checkCheckpointLine(c.text, options.trusted);
    if (!('checkpoint' in r)) {
      cpProblem = { kind: r.kind, file: `host ${h.host}`, line: c.line, message: r.message };
      break;
    }
    if (r.checkpoint.host !== h.host || r.checkpoint.log !== h.log) {
      cpProblem = {
        kind: 'forged',
        file: `host ${h.host}`,
        line: c.line,
        message: `checkpoint of ${r.checkpoint.host}/${r.checkpoint.log} exported as ${h.host}/${h.log}`,
      };
      break;
    }
    const clash = heads.find((x) => x.seq === r.checkpoint.seq && x.hash !== r.checkpoint.hash);
    if (clash) {
      cpProblem = {
        kind: 'reordered',
        file: `host ${h.host}`,
        line: c.line,
        message: `two checkpoints disagree about seq ${clash.seq}`,
      };
      break;
    }
    heads.push(r.checkpoint);
  }
  const ordered = [...h.entries.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  const path = join(dir, `${out(h.host)}-${out(h.log)}.jsonl`);
  writeFileSync(path, ordered.length ? `${ordered.map((e) => e.text).join('\n')}\n` : '');
  let result = await verify(path, {
    ...(options.hmacKey === undefined ? {} : { hmacKey: options.hmacKey }),
    checkpoints: heads,
  });
  // Name the export line, not the line of the temporary per-host file.
  const label = `host ${h.host} (${h.log})`;
  result = { ...result, files: [label] };
  if (h.conflict && (!result.problem || (result.problem.seq ?? 0) >= h.conflict.seq)) {
    result = {
      ...result,
      ok: false,
      intact: false,
      status: 'tampered',
      problem: {
        kind: 'inserted',
        file: label,
        line: h.conflict.line,
        seq: h.conflict.seq,
        message: `two different records claim seq ${h.conflict.seq}`,
        beforeCheckpoint: heads.some((c) => c.seq >= h.conflict!.seq),
      },
    };
  } else if (result.problem) {
    const p = result.problem;
    const exportLine = ordered[p.line - 1]?.line ?? 0;
    result = { ...result, problem: { ...p, file: label, line: exportLine } };
  }
  if (result.tornTail) result = { ...result, tornTail: { ...result.tornTail, file: label } };
  return {
    host: h.host,
    log: h.log,
    result,
    checkpoints: heads.length,
    ...(cpProblem ? { checkpointProblem: cpProblem } : {}),
    duplicates: h.duplicates,
  };
}

const out = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
