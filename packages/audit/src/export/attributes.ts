/** Attribute names of exported records (the body is the exact line, so the store can rehash it). */
export const OTLP_ATTRIBUTES = {
  kind: 'codex.audit.kind',
  seq: 'codex.audit.seq',
  hash: 'codex.audit.hash',
  prev: 'codex.audit.prev',
  log: 'codex.audit.log',
} as const;
