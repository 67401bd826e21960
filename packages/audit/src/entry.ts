import type { AuditEventInput } from '@codex/security-profile';
import { InvalidAuditEventError } from './errors.js';
import { isSecretKey, REDACTED } from './mask.js';
import { DECISIONS, OPERATIONS, PROFILES } from './schema.js';

/** Validating an event and rendering the middle of its line; the clock the logger stamps it with. */

const OPERATION_SET: ReadonlySet<string> = new Set(OPERATIONS);
const DECISION_SET: ReadonlySet<string> = new Set(DECISIONS);
const PROFILE_SET: ReadonlySet<string> = new Set(PROFILES);

/** Validates the event and renders the middle of its line (timestamp … chain). */
export function entryBody(
  e: AuditEventInput,
  now: () => Date,
  mask: (text: string) => string,
  chain: string,
): string {
  if (typeof e !== 'object' || e === null) throw new InvalidAuditEventError('event', 'must be an object');
  if (!PROFILE_SET.has(e.profile))
    throw new InvalidAuditEventError('profile', `unknown "${String(e.profile)}"`);
  if (!OPERATION_SET.has(e.operation)) {
    throw new InvalidAuditEventError('operation', `unknown "${String(e.operation)}"`);
  }
  if (!DECISION_SET.has(e.decision)) {
    throw new InvalidAuditEventError('decision', `unknown "${String(e.decision)}"`);
  }
  if (typeof e.target !== 'string') throw new InvalidAuditEventError('target', 'must be a string');
  if (typeof e.reason !== 'string') throw new InvalidAuditEventError('reason', 'must be a string');
  const timestamp = iso(now());
  let body = `"timestamp":"${timestamp}","session_id":${optString(e.session_id, 'session_id')},"task_id":${optString(
    e.task_id,
    'task_id',
  )},"agent_type":${optString(e.agent_type, 'agent_type')},"profile":"${e.profile}","operation":"${
    e.operation
  }","target":${JSON.stringify(mask(e.target))},"decision":"${e.decision}","reason":${JSON.stringify(
    mask(e.reason),
  )}`;
  if (e.details !== undefined) body += `,"details":${entryDetails(e.details, mask)}`;
  return `${body},"chain":"${chain}"`;
}

function entryDetails(
  details: NonNullable<AuditEventInput['details']>,
  mask: (text: string) => string,
): string {
  if (typeof details !== 'object' || details === null || Array.isArray(details)) {
    throw new InvalidAuditEventError('details', 'must be an object');
  }
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(details)) {
    if (isSecretKey(key)) out[key] = REDACTED;
    else if (typeof value === 'string') out[key] = mask(value);
    else if (
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      out[key] = value;
    } else
      throw new InvalidAuditEventError(`details.${key}`, 'must be a string, finite number, boolean or null');
  }
  return JSON.stringify(out);
}

let lastMs = -1;
let lastDate = new Date(0);
let lastIso = lastDate.toISOString();
/** `new Date()`, reused within the same millisecond (toISOString is then cached too). */
export function cachedNow(): Date {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastDate = new Date(ms);
    lastIso = lastDate.toISOString();
  }
  return lastDate;
}
function iso(date: Date): string {
  return date === lastDate ? lastIso : date.toISOString();
}

function optString(value: unknown, field: string): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value !== 'string') throw new InvalidAuditEventError(field, 'must be a string');
  return JSON.stringify(value);
}
