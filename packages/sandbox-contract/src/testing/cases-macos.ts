// Cases only Seatbelt can express (the shared table keys its cases on Linux mechanisms), and the
// cases of the shared table that mean nothing on macOS. ESCAPE_CASES carries these, tagged
// `backends: ['macos']`, so no other backend gets them.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EscapeCase } from './cases.js';

/** Cases of the shared table that cannot mean anything on macOS, with the reason (shown as a skip). */
export const NOT_ON_MACOS: Readonly<Record<string, string>> = {
  'works: cat /etc/os-release': 'macOS has no /etc/os-release',
  // The macOS suite has never run a case's host side (`during`), so this control could not
  // escape there and the case was skipped; it stays skipped until it is checked against Seatbelt.
  'inbound: a listener inside is reachable from the host':
    'the host side of this case is not run on macOS (its control cannot escape there)',
};

const seatbelt = (a: { mechanisms: readonly string[] }) => a.mechanisms.includes('seatbelt');
const contains = (p: string, s: string) => {
  try {
    return execFileSync('cat', [p], { encoding: 'utf8' }).includes(s);
  } catch {
    return false;
  }
};
const launchAgent = (marker: string) =>
  join(homedir(), 'Library', 'LaunchAgents', `codex-escape-${marker}.plist`);

const CASES: readonly EscapeCase[] = [
  {
    id: 'macos: signal a process outside (kill -TERM)',
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    enforced: seatbelt,
    command: (c) => ['kill', '-TERM', String(c.victim.pid)],
    escaped: (c) => !c.victim.alive(),
  },
  {
    id: 'macos: write into the shared /tmp',
    category: 'filesystem',
    profiles: ['offline', 'workspace-write'],
    enforced: seatbelt,
    command: (c) => ['sh', '-c', `echo x > /tmp/codex-escape-${c.world.marker}`],
    escaped: (c) => existsSync(`/tmp/codex-escape-${c.world.marker}`),
    undoControl: (c) => rmSync(`/tmp/codex-escape-${c.world.marker}`, { force: true }),
  },
  {
    id: 'macos: install a LaunchAgent (persistence)',
    category: 'filesystem',
    profiles: ['offline', 'workspace-net'],
    enforced: seatbelt,
    command: (c) => [
      'sh',
      '-c',
      `mkdir -p "$HOME/Library/LaunchAgents" && echo x > "$HOME/Library/LaunchAgents/codex-escape-${c.world.marker}.plist"`,
    ],
    escaped: (c) => existsSync(launchAgent(c.world.marker)),
    undoControl: (c) => rmSync(launchAgent(c.world.marker), { force: true }),
  },
  {
    id: 'macos: AF_INET socket + connect via the probe under offline',
    category: 'network',
    profiles: ['offline'],
    needs: ['nc'],
    enforced: seatbelt,
    command: (c) => ['nc', '-z', '-w', '3', '127.0.0.1', String(c.net.tcpPort)],
    escaped: (c) => c.net.tcpHits() > 0,
  },
  {
    id: 'macos: append to .git/config through a ../ws path',
    category: 'protected-paths',
    profiles: ['workspace-write'],
    enforced: (a) => seatbelt(a) && (a.enforced['protected-paths']?.length ?? 0) > 0,
    command: (c) => ['sh', '-c', `cd ${c.world.ws}/../ws && echo "# ${c.world.marker}" >> .git/config`],
    escaped: (c) => contains(join(c.world.ws, '.git', 'config'), c.world.marker),
  },
];

/** What only Seatbelt expresses, tagged for the macOS backend. */
export const MACOS_CASES: readonly EscapeCase[] = CASES.map((c) => ({ ...c, backends: ['macos'] }));
