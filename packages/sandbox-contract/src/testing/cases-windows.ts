// The Windows cases. Windows has no POSIX shell and none of the shared table's tools, so the
// backend's own test program (sandbox-windows' win-probe.exe, given as `c.probes.probe`) tries
// each effect and prints ESCAPED or DENIED <error>; the host checks the effect too. The Windows
// escape test runs them against AppContainer and the restricted token, each with a control run at
// `none` that must escape.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecurityProfile } from '@codex/security-profile';
import type { EscapeCase } from './cases.js';
import type { World } from './fixture.js';

const always = () => true;
const limits = { timeoutMs: 30_000 };
const jobObject = (a: { mechanisms: readonly string[] }) => a.mechanisms.includes('job-object');
const contents = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : null);
// What each world's target held before the run (the case's setup records it, by world marker).
const before = new Map<string, string | null>();

/** The program creates `target`: contained when it was denied and the target is as it was. */
function write(
  id: string,
  category: EscapeCase['category'],
  profiles: readonly SecurityProfile[],
  target: (w: World) => string,
): EscapeCase {
  return {
    id,
    category,
    profiles,
    enforced: always,
    limits,
    setup: (c) => {
      before.set(c.world.marker, contents(target(c.world)));
    },
    command: (c) => [c.probes.probe, 'write', target(c.world)],
    escaped: (c, r) => !/DENIED/.test(r.stdout) || contents(target(c.world)) !== before.get(c.world.marker),
  };
}

const CASES: readonly EscapeCase[] = [
  write(
    'create a file outside the workspace',
    'filesystem',
    ['offline', 'workspace-write', 'workspace-net'],
    (w) => join(w.outside, 'new.txt'),
  ),
  write(
    'create a file in the workspace under a read-only profile',
    'filesystem',
    ['offline', 'net-read-only'],
    (w) => join(w.ws, 'new.txt'),
  ),
  write('overwrite .git\\config', 'protected-paths', ['workspace-write', 'workspace-net'], (w) =>
    join(w.ws, '.git', 'config'),
  ),
  write('create a git hook', 'protected-paths', ['workspace-write'], (w) =>
    join(w.ws, '.git', 'hooks', 'pre-commit'),
  ),
  write('write into .codex', 'protected-paths', ['workspace-write'], (w) =>
    join(w.ws, '.codex', 'config.toml'),
  ),
  {
    id: 'works: writing inside the workspace under workspace-write',
    category: 'positive',
    profiles: ['workspace-write'],
    enforced: always,
    limits,
    control: false,
    command: (c) => [c.probes.probe, 'write', join(c.world.ws, 'ok.txt')],
    escaped: (c, r) => !(/ESCAPED/.test(r.stdout) && existsSync(join(c.world.ws, 'ok.txt'))),
  },
  {
    id: 'TCP connect to a 127.0.0.1 listener',
    category: 'network',
    profiles: ['offline', 'workspace-write'],
    // Only AppContainer blocks sockets; a restricted token does not.
    rungs: ['appcontainer'],
    enforced: (a) => (a.enforced.network?.length ?? 0) > 0,
    limits,
    command: (c) => [c.probes.probe, 'connect', String(c.net.tcpPort)],
    escaped: (c) => c.net.tcpHits() > 0,
  },
  {
    id: 'the active-process limit contains a burst of processes',
    category: 'limits',
    profiles: ['offline'],
    rungs: ['appcontainer'],
    enforced: jobObject,
    limits: { ...limits, maxProcesses: 4 },
    control: false,
    command: (c) => [c.probes.probe, 'spawn', '20'],
    escaped: (_c, r) => {
      const started = Number(/STARTED (\d+)/.exec(r.stdout)?.[1] ?? -1);
      return !(started >= 0 && started < 4);
    },
  },
  {
    id: 'the timeout kills the whole job',
    category: 'limits',
    profiles: ['offline'],
    rungs: ['appcontainer'],
    enforced: jobObject,
    limits: { timeoutMs: 1000 },
    control: false,
    command: (c) => [c.probes.probe, 'sleep', '60000'],
    escaped: (_c, r) => !r.timedOut || r.durationMs >= 20_000,
  },
];

/** The Windows table (tagged for the Windows backend); pass it as the suite's `cases`. */
export const WINDOWS_CASES: readonly EscapeCase[] = CASES.map((c) => ({ ...c, backends: ['windows'] }));
