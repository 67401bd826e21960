const SECRET_KEY =
  /pass(word|wd|phrase)?|secret|token|api[-_]?key|apikey|auth|cookie|credential|private[-_]?key|session|bearer|signature/i;
const SECRET_VALUE = [
  /\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b[A-Fa-f0-9]{40,}\b/g,
  /(:\/\/[^:/\s]+:)[^@/\s]+@/g,
];

/** Replaces things that look like credentials in free text with `[REDACTED]`. */
export function redactText(text: string): string {
  let out = text;
  for (const re of SECRET_VALUE) {
    out = out.replace(re, (m, p1: unknown) =>
      typeof p1 === 'string' && m.startsWith(p1) && p1.startsWith('://') ? `${p1}[REDACTED]@` : '[REDACTED]',
    );
  }
  return out;
}

function summariseValue(value: unknown, key: string, depth: number, maxString: number): unknown {
  if (SECRET_KEY.test(key)) return '[REDACTED]';
  if (typeof value === 'string') {
    const r = redactText(value);
    return r.length > maxString ? `${r.slice(0, maxString)}…(${value.length} chars)` : r;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) {
    if (depth >= 2) return `[${value.length} items]`;
    const head = value.slice(0, 5).map((v) => summariseValue(v, key, depth + 1, maxString));
    return value.length > 5 ? [...head, `…+${value.length - 5} items`] : head;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (depth >= 2) return `{${entries.length} keys}`;
    return Object.fromEntries(
      entries.slice(0, 20).map(([k, v]) => [k, summariseValue(v, k, depth + 1, maxString)]),
    );
  }
  return typeof value;
}

/**
 * A short, redacted JSON summary of tool-call arguments for the audit log: values under
 * secret-looking keys and secret-looking strings are replaced, long strings are cut, nesting is
 * flattened after two levels. At most `maxLength` characters.
 */
export function summariseArguments(args: unknown, maxLength = 512): string {
  if (args === undefined) return '{}';
  const text = JSON.stringify(summariseValue(args, '', 0, 80));
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
