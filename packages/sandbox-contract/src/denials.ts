import type { ObservedDenial } from './contract.js';

const PATTERNS: readonly (readonly [ObservedDenial['kind'], RegExp])[] = [
  ['read-only-filesystem', /read-only file system|\bEROFS\b/i],
  [
    'network',
    /network is unreachable|\bENETUNREACH\b|connection refused|\bECONNREFUSED\b|couldn't connect|failed to connect|could not resolve|name resolution|\bEAI_AGAIN\b|\bENOTFOUND\b/i,
  ],
  [
    'process-limit',
    /fork: (retry|resource temporarily unavailable|interrupted)|cannot fork|\bEAGAIN\b.*(fork|spawn|clone)/i,
  ],
  ['permission', /operation not permitted|permission denied|\bEPERM\b|\bEACCES\b/i],
];

/**
 * Denials visible in a command's output. This is evidence for the audit log ("the sandbox denied
 * something observable"), not proof: a command may print these words for other reasons.
 */
export function findObservedDenials(...texts: readonly string[]): ObservedDenial[] {
  const out: ObservedDenial[] = [];
  for (const text of texts) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      const hit = PATTERNS.find(([, re]) => re.test(line));
      if (hit) out.push({ kind: hit[0], evidence: line.slice(0, 300) });
      if (out.length >= 20) return out;
    }
  }
  return out;
}
