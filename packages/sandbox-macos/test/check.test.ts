import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { checkSeatbeltProfile } from '../src/check.js';
import { generateSeatbeltProfile } from '../src/profile.js';

const ws = '/Users/dev/project';
const offline = toSandboxPolicy('offline');
const wsWrite = toSandboxPolicy('workspace-write', { workspaceRoots: [ws] });
const wsNet = toSandboxPolicy('workspace-net', { workspaceRoots: [ws] });

/** A minimal profile that passes, to which one bad rule is added. */
const BASE = '(version 1)\n(deny default)\n(allow process-exec)\n(allow file-read*)\n';
const withRule = (rule: string) => `${BASE}${rule}\n`;

describe('checkSeatbeltProfile: generated profiles pass', () => {
  for (const [name, policy] of Object.entries({ offline, wsWrite, wsNet })) {
    it(name, () => {
      expect(checkSeatbeltProfile(generateSeatbeltProfile(policy), policy)).toEqual([]);
    });
  }
  it('the minimal base passes', () => {
    expect(checkSeatbeltProfile(BASE, offline)).toEqual([]);
  });
});

describe('checkSeatbeltProfile: dangerous profiles fail', () => {
  const bad: [string, string, typeof offline, RegExp][] = [
    ['broad allow default', withRule('(allow default)'), offline, /broad \(allow default\)/],
    ['missing deny default', '(version 1)\n(allow file-read*)\n', offline, /missing \(deny default\)/],
    [
      'deny default with a filter is not deny default',
      '(version 1)\n(deny default (subpath "/x"))\n',
      offline,
      /missing \(deny default\)/,
    ],
    ['missing version', '(deny default)\n', offline, /missing \(version 1\)/],
    ['unrestricted mach-lookup', withRule('(allow mach-lookup)'), offline, /unrestricted mach-lookup/],
    [
      'mach-lookup by regex',
      withRule('(allow mach-lookup (global-name-regex #".*"))'),
      offline,
      /mach-lookup by pattern/,
    ],
    [
      'mach-lookup of an unlisted service',
      withRule('(allow mach-lookup (global-name "com.apple.pasteboard.1"))'),
      offline,
      /not on the list: com.apple.pasteboard.1/,
    ],
    ['mach* wildcard', withRule('(allow mach*)'), offline, /unrestricted mach-lookup/],
    ['network* under offline', withRule('(allow network*)'), offline, /network allowed under offline/],
    [
      'outbound to any ip under offline',
      withRule('(allow network-outbound (remote ip "*:*"))'),
      offline,
      /network allowed under offline/,
    ],
    [
      'inet sockets under workspace-write',
      withRule('(allow system-socket (socket-domain AF_INET))'),
      wsWrite,
      /network allowed under workspace-write/,
    ],
    [
      'network hidden in require-any',
      withRule('(allow network-outbound (require-any (remote unix-socket) (remote tcp)))'),
      offline,
      /network allowed/,
    ],
    [
      'localhost port that is not a proxy port',
      withRule('(allow network-outbound (remote ip "localhost:22"))'),
      offline,
      /network allowed/,
    ],
    ['unrestricted file-write*', withRule('(allow file-write*)'), wsWrite, /unrestricted write/],
    ['file* grants writes', withRule('(allow file*)'), wsWrite, /unrestricted write/],
    [
      'write outside the roots',
      withRule('(allow file-write* (subpath "/Users/dev"))'),
      wsWrite,
      /write outside the writable roots/,
    ],
    [
      'write to /etc',
      withRule('(allow file-write-data (literal "/etc/hosts"))'),
      wsWrite,
      /write outside the writable roots/,
    ],
    [
      'write anywhere under a read-only profile',
      withRule(`(allow file-write* (subpath "${ws}"))`),
      offline,
      /write outside the writable roots/,
    ],
    [
      'root without require-not',
      withRule(`(allow file-write* (subpath "${ws}"))`),
      wsWrite,
      /without require-not for protected .*\.git/,
    ],
    [
      'root missing one require-not',
      withRule(
        `(allow file-write* (require-all (subpath "${ws}") (require-not (subpath "${ws}/.git")) (require-not (subpath "${ws}/.codex"))))`,
      ),
      wsWrite,
      /protected \/Users\/dev\/project\/\.agents/,
    ],
    [
      'write straight into .git',
      withRule(`(allow file-write* (literal "${ws}/.git/config"))`),
      wsWrite,
      /protected .*\.git/,
    ],
    [
      'device rule that can create files',
      withRule('(allow file-write* (literal "/dev/null"))'),
      wsWrite,
      /write outside the writable roots/,
    ],
    [
      'regex write',
      withRule('(allow file-write* (regex #"^/Users/dev/project/.*"))'),
      wsWrite,
      /cannot be checked/,
    ],
    [
      'extra gitdir target not protected',
      withRule(
        `(allow file-write* (require-all (subpath "${ws}") (require-not (subpath "${ws}/.git")) (require-not (subpath "${ws}/.codex")) (require-not (subpath "${ws}/.agents"))))`,
      ),
      wsWrite,
      /protected \/Users\/dev\/project\/sub\/gitdir/,
    ],
    [
      'process-exec without sandbox',
      withRule('(allow process-exec (with no-sandbox))'),
      offline,
      /no-sandbox/,
    ],
    ['signal anything', withRule('(allow signal)'), offline, /not confined to the sandbox/],
    ['process-info of others', withRule('(allow process-info* (target others))'), offline, /not confined/],
    ['sysctl-write', withRule('(allow sysctl-write)'), offline, /forbidden operation sysctl-write/],
    ['kext load', withRule('(allow system-kext-load)'), offline, /forbidden operation/],
    ['unparseable', '(version 1)(deny default', offline, /SBPL parse error/],
  ];
  for (const [name, text, policy, expected] of bad) {
    it(name, () => {
      const opts = name.startsWith('extra gitdir') ? { extraProtectedPaths: [`${ws}/sub/gitdir`] } : {};
      const v = checkSeatbeltProfile(text, policy, opts);
      expect(v.length, `expected a finding for: ${text}`).toBeGreaterThan(0);
      expect(v.join('\n')).toMatch(expected);
    });
  }

  it('removing any single require-not from a generated profile is caught', () => {
    const text = generateSeatbeltProfile(wsWrite);
    const lines = text.split('\n');
    const nots = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('(require-not'));
    expect(nots.length).toBe(3);
    for (const [line, i] of nots) {
      // Keep the parentheses balanced: a closing paren may end the line.
      const closing = line.trimEnd().endsWith(')))') ? ')' : '';
      const mutated = [...lines.slice(0, i), closing, ...lines.slice(i + 1)].join('\n');
      expect(checkSeatbeltProfile(mutated, wsWrite), `mutation of ${line}`).not.toEqual([]);
    }
  });

  it('a network profile generated for workspace-net fails the check when the policy is offline', () => {
    // A policy with the whole network (what workspace-net had before egress went through the proxy).
    const v = checkSeatbeltProfile(
      generateSeatbeltProfile({ ...wsNet, network: { mode: 'full' } }),
      toSandboxPolicy('workspace-write', { workspaceRoots: [ws] }),
    );
    expect(v.join('\n')).toMatch(/network allowed under workspace-write/);
    expect(v.join('\n')).toMatch(/not on the list: com.apple.dnssd.service/);
  });

  it('proxy ports are allowed only when expected', () => {
    const text = generateSeatbeltProfile(offline, { proxyPorts: [3128] });
    expect(checkSeatbeltProfile(text, offline, { proxyPorts: [3128] })).toEqual([]);
    expect(checkSeatbeltProfile(text, offline).join('\n')).toMatch(/network allowed under offline/);
  });

  it('a partial-read policy rejects reads outside its roots', () => {
    const partial = { ...offline, fullDiskRead: false, readableRoots: ['/Users/dev'] };
    expect(checkSeatbeltProfile(generateSeatbeltProfile(partial), partial)).toEqual([]);
    expect(
      checkSeatbeltProfile(withRule('(allow file-read-data (subpath "/etc"))'), partial).join('\n'),
    ).toMatch(/unrestricted read|read outside/);
  });
});
