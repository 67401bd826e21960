import { isWithin, type SandboxPolicy } from '@codex/security-profile';
import {
  DEVICE_WRITE_LITERALS,
  DEVICE_WRITE_REGEXES,
  DEVICE_WRITE_SUBPATHS,
  MACH_SERVICES,
  NETWORK_MACH_SERVICES,
  type SeatbeltOptions,
} from './profile.js';
import { parseSbpl, renderSbpl, type SbplNode } from './sbpl.js';

type List = Extract<SbplNode, { type: 'list' }>;

const isList = (n: SbplNode | undefined): n is List => n?.type === 'list';
const head = (n: SbplNode | undefined): string | undefined =>
  isList(n) && n.items[0]?.type === 'symbol' ? n.items[0].value : undefined;
const strArg = (n: List, i = 1): string | undefined => {
  const a = n.items[i];
  return a?.type === 'string' ? a.value : undefined;
};

/** Operations that modify the filesystem. */
function isWriteOp(op: string): boolean {
  return (
    op === 'default' ||
    op === 'file*' ||
    op.startsWith('file-write') ||
    ['file-link', 'file-clone', 'file-mount', 'file-unmount', 'file-revoke'].includes(op)
  );
}
const isNetworkOp = (op: string) => op === 'default' || op.startsWith('network') || op === 'system-socket';
const isMachLookup = (op: string) => op === 'default' || op === 'mach*' || op === 'mach-lookup';
const isProcessTargetOp = (op: string) =>
  op === 'signal' || op.startsWith('process-info') || op === 'mach-priv-task-port' || op === 'mach-task-name';
/** Operations no profile of ours ever allows. */
const FORBIDDEN_OPS = new Set([
  'sysctl-write',
  'sysctl*',
  'mach-priv*',
  'mach-priv-host-port',
  'system*',
  'system-kext-load',
  'system-privilege',
  'system-mac-syscall',
  'nvram*',
  'nvram-set',
  'file-mount',
  'file-unmount',
  'process*',
]);

/** One allow/deny rule: its operations and its filters (modifiers such as `(with …)` aside). */
interface Rule {
  readonly action: 'allow' | 'deny';
  readonly ops: readonly string[];
  readonly filters: readonly List[];
  readonly modifiers: readonly List[];
  readonly text: string;
}

function rules(forms: readonly SbplNode[]): Rule[] {
  const out: Rule[] = [];
  for (const f of forms) {
    const h = head(f);
    if (!isList(f) || (h !== 'allow' && h !== 'deny')) continue;
    const ops: string[] = [];
    const filters: List[] = [];
    const modifiers: List[] = [];
    for (const item of f.items.slice(1)) {
      if (item.type === 'symbol') ops.push(item.value);
      else if (isList(item) && head(item) === 'with') modifiers.push(item);
      else if (isList(item)) filters.push(item);
    }
    out.push({ action: h, ops, filters, modifiers, text: renderSbpl(f).slice(0, 200) });
  }
  return out;
}

/** A filter as a list of alternatives (top-level filters and `require-any` are OR). */
function alternatives(filters: readonly List[]): List[] {
  return filters.flatMap((f) =>
    head(f) === 'require-any' ? alternatives(f.items.slice(1).filter(isList)) : [f],
  );
}

export interface SeatbeltExpectations extends SeatbeltOptions {
  /** Mach services that may be looked up (default: the generator's own lists for this policy). */
  readonly machServices?: readonly string[];
}

/**
 * Structural check of a Seatbelt profile against the policy it must enforce. Parses the SBPL
 * (no pattern matching over text) and returns one message per dangerous rule:
 *
 * - no `(version 1)` / no `(deny default)`, or any `(allow default)`;
 * - `(with no-sandbox)` (a child escapes the sandbox) or an always-forbidden operation
 *   (sysctl-write, nvram, kext loading, mounting…);
 * - `mach-lookup` without filters, by pattern, or of a service not on the list;
 * - `signal` / `process-info*` without `(target same-sandbox)` or `(target self)`;
 * - any network beyond Unix sockets (and the proxy ports) when the policy's network is `none`;
 * - a write allowed outside the writable roots, or inside one without `require-not` for each of
 *   its protected paths; reads beyond `readableRoots` when the disk is not fully readable.
 *
 * An empty array means no finding.
 */
export function checkSeatbeltProfile(
  text: string,
  policy: SandboxPolicy,
  expect: SeatbeltExpectations = {},
): string[] {
  let forms: SbplNode[];
  try {
    forms = parseSbpl(text);
  } catch (e) {
    return [(e as Error).message];
  }
  const v: string[] = [];
  const version = forms.find((f) => head(f) === 'version');
  if (!isList(version) || version.items[1]?.type !== 'number' || version.items[1].value !== 1)
    v.push('missing (version 1)');
  const rs = rules(forms);
  if (!rs.some((r) => r.action === 'deny' && r.ops.includes('default') && r.filters.length === 0))
    v.push('missing (deny default)');

  const networkOn = policy.network.mode === 'full';
  const machAllowed = new Set(
    expect.machServices ?? [...MACH_SERVICES, ...(networkOn ? NETWORK_MACH_SERVICES : [])],
  );
  const ports = new Set((expect.proxyPorts ?? []).map((p) => `localhost:${p}`));
  const roots = [
    ...policy.writableRoots.map((w) => ({
      root: w.root,
      protected: [
        ...w.readOnlySubpaths,
        ...(expect.extraProtectedPaths ?? []).filter((p) => isWithin(p, w.root) && p !== w.root),
      ],
    })),
    ...(expect.tmpDir ? [{ root: expect.tmpDir, protected: [] as string[] }] : []),
  ];

  for (const r of rs) {
    if (r.action !== 'allow') continue;
    if (r.modifiers.some((m) => m.items.some((x) => x.type === 'symbol' && x.value === 'no-sandbox')))
      v.push(`(with no-sandbox) lets a child escape the sandbox: ${r.text}`);
    if (r.ops.includes('default')) v.push(`broad (allow default): ${r.text}`);
    for (const op of r.ops) if (FORBIDDEN_OPS.has(op)) v.push(`forbidden operation ${op}: ${r.text}`);

    if (r.ops.some(isMachLookup)) {
      if (r.filters.length === 0) v.push(`unrestricted mach-lookup: ${r.text}`);
      for (const f of alternatives(r.filters)) {
        const name = strArg(f);
        if (head(f) !== 'global-name' || name === undefined)
          v.push(`mach-lookup by pattern or unknown filter ${renderSbpl(f)}`);
        else if (!machAllowed.has(name)) v.push(`mach-lookup of a service not on the list: ${name}`);
      }
    }

    if (r.ops.some(isProcessTargetOp)) {
      const ok =
        r.filters.length > 0 &&
        alternatives(r.filters).every(
          (f) =>
            head(f) === 'target' &&
            f.items[1]?.type === 'symbol' &&
            ['same-sandbox', 'self'].includes(f.items[1].value),
        );
      if (!ok) v.push(`process operation not confined to the sandbox: ${r.text}`);
    }

    if (!networkOn && r.ops.some(isNetworkOp)) {
      if (r.filters.length === 0) v.push(`network allowed under ${policy.profile} (network none): ${r.text}`);
      for (const f of alternatives(r.filters)) {
        const h = head(f);
        const arg = f.items[1];
        const unixSocket =
          (h === 'local' || h === 'remote') && arg?.type === 'symbol' && arg.value === 'unix-socket';
        const proxy =
          h === 'remote' && arg?.type === 'symbol' && arg.value === 'ip' && ports.has(strArg(f, 2) ?? '');
        const domain = h === 'socket-domain' && arg?.type === 'symbol' ? arg.value : undefined;
        const domainOk =
          domain === 'AF_UNIX' ||
          domain === 'AF_SYSTEM' ||
          (ports.size > 0 && (domain === 'AF_INET' || domain === 'AF_INET6'));
        if (!unixSocket && !proxy && !domainOk)
          v.push(`network allowed under ${policy.profile} (network none): ${renderSbpl(f)}`);
      }
    }

    const writeOps = r.ops.filter(isWriteOp);
    if (writeOps.length > 0 && !policy.fullDiskWrite) {
      if (r.filters.length === 0) v.push(`unrestricted write (${writeOps.join(' ')}): ${r.text}`);
      const dataOnly = writeOps.every((op) => op === 'file-write-data');
      for (const f of alternatives(r.filters)) {
        const problem = writeFilterProblem(f, dataOnly, roots);
        if (problem) v.push(`${problem}: ${renderSbpl(f)}`);
      }
    }

    if (!policy.fullDiskRead && r.ops.some((op) => op === 'file*' || op.startsWith('file-read'))) {
      const metadataOnly = r.ops.every((op) => op === 'file-read-metadata');
      if (!metadataOnly) {
        if (r.filters.length === 0) v.push(`unrestricted read under a partial-read policy: ${r.text}`);
        for (const f of alternatives(r.filters)) {
          const p = strArg(f);
          const path = head(f) === 'subpath' || head(f) === 'literal' ? p : undefined;
          if (path === undefined || !policy.readableRoots.some((root) => isWithin(path, root)))
            v.push(`read outside the readable roots: ${renderSbpl(f)}`);
        }
      }
    }
  }
  return v;
}

function writeFilterProblem(
  f: List,
  dataOnly: boolean,
  roots: readonly { root: string; protected: readonly string[] }[],
): string | null {
  const h = head(f);
  if (dataOnly) {
    if (h === 'literal' && (DEVICE_WRITE_LITERALS as readonly string[]).includes(strArg(f) ?? ''))
      return null;
    if (h === 'subpath' && (DEVICE_WRITE_SUBPATHS as readonly string[]).includes(strArg(f) ?? ''))
      return null;
    if (
      h === 'regex' &&
      f.items[1]?.type === 'regex' &&
      (DEVICE_WRITE_REGEXES as readonly string[]).includes(f.items[1].value)
    )
      return null;
  }
  let path: string | undefined;
  const nots: string[] = [];
  if (h === 'subpath' || h === 'literal') {
    path = strArg(f);
  } else if (h === 'require-all') {
    const parts = f.items.slice(1).filter(isList);
    const pos = parts.filter((p) => head(p) !== 'require-not');
    if (pos.length !== 1 || (head(pos[0]) !== 'subpath' && head(pos[0]) !== 'literal'))
      return 'write filter not understood (require-all needs exactly one subpath/literal)';
    path = strArg(pos[0]!);
    for (const p of parts.filter((x) => head(x) === 'require-not')) {
      const inner = p.items[1];
      if (isList(inner) && head(inner) === 'subpath' && strArg(inner) !== undefined)
        nots.push(strArg(inner)!);
      else return `require-not not understood: ${renderSbpl(p)}`;
    }
  } else {
    return 'write filter not understood (regex, vnode-type… cannot be checked)';
  }
  if (path === undefined) return 'write filter without a path';
  const root = roots.find((r) => isWithin(path, r.root));
  if (!root) return 'write outside the writable roots';
  const unprotected = root.protected.filter(
    (p) => (isWithin(p, path) || isWithin(path, p)) && !nots.some((n) => isWithin(p, n)),
  );
  if (unprotected.length > 0) return `write without require-not for protected ${unprotected.join(', ')}`;
  return null;
}
