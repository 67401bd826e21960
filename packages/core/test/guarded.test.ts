// runGuardedCommand against the real policy engine, the real Linux sandbox and the real audit log.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger } from '@codex/audit';
import { createPolicyEngine, type PolicyEngine } from '@codex/execpolicy';
import type { Assessment } from '@codex/sandbox-contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPROVAL_MODES,
  type Approver,
  backendForPlatform,
  containment,
  type GuardEnvironment,
  isUnlistedOnly,
  runGuardedCommand,
} from '../src/index.js';

// The full rung needs bwrap, Landlock and seccomp; without them these tests are skipped (CI=true
// requires them, so a CI machine without them fails instead of silently skipping).
const backend = await backendForPlatform();
const full = backend !== null && (await backend.probe()).best === 'full';
const linux = process.platform === 'linux' && (full || process.env.CI === 'true');
let dir: string;
let home: string;
let audit: AuditLogger;
let engine: Promise<PolicyEngine>;
beforeEach(() => {
  dir = mkdtempSync('/var/tmp/codex-core-guarded-');
  home = mkdtempSync('/var/tmp/codex-core-guarded-home-');
  audit = new AuditLogger({ path: join(home, 'audit.jsonl'), flushIntervalMs: 0 });
  engine ??= createPolicyEngine();
});
afterEach(async () => {
  await audit.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

function entries(): {
  operation: string;
  decision: string;
  reason: string;
  details?: Record<string, unknown>;
}[] {
  const file = join(home, 'audit.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
}
const request = (command: string[] | { script: string }) => ({
  command,
  cwd: dir,
  env: { PATH: process.env.PATH, HOME: process.env.HOME },
  profile: 'offline' as const,
  workspace: { workspaceRoots: [dir], extraWritableRoots: [] },
});
const envOf = (extra: Partial<GuardEnvironment> = {}): GuardEnvironment => ({
  engine,
  audit,
  sessionId: 's1',
  agentType: 'test',
  ...extra,
});

describe.skipIf(!linux)('runGuardedCommand', () => {
  it('allow: runs in the sandbox; the decision and the outcome are audited', async () => {
    const r = await runGuardedCommand(request(['echo', 'hi']), envOf({ client: 'c1' }));
    expect(r).toMatchObject({ outcome: 'ran', exitCode: 0, decision: 'allow' });
    expect(r.run?.stdout).toBe('hi\n');
    expect(entries().map((e) => [e.operation, e.decision, e.details?.stage, e.details?.client])).toEqual([
      ['command_exec', 'allowed', 'policy', 'c1'],
      ['process_spawn', 'allowed', 'outcome', 'c1'],
    ]);
  });

  it('forbidden: refused (125) before anything runs', async () => {
    const marker = join(dir, 'ran');
    const r = await runGuardedCommand(request({ script: `touch ${marker}; rm -rf /` }), envOf());
    expect(r).toMatchObject({
      outcome: 'refused',
      exitCode: 125,
      decision: 'forbidden',
      refusal: { code: 'POLICY_FORBIDDEN' },
    });
    expect(existsSync(marker)).toBe(false);
    expect(entries()).toHaveLength(1);
  });

  it('prompt: no approver refuses; "no" refuses; "always" saves the prefix shown; a failing approver denies', async () => {
    const cmd = ['python3', '-c', 'print(6*7)'];
    expect((await runGuardedCommand(request(cmd), envOf({ unattended: 'in a test' }))).refusal?.code).toBe(
      'APPROVAL_REQUIRED',
    );
    const no: Approver = { how: 'by test', ask: async () => 'no' };
    expect((await runGuardedCommand(request(cmd), envOf({ approver: no }))).refusal?.code).toBe(
      'NOT_APPROVED',
    );
    const broken: Approver = { how: 'by test', ask: async () => Promise.reject(new Error('client gone')) };
    expect((await runGuardedCommand(request(cmd), envOf({ approver: broken }))).refusal?.code).toBe(
      'APPROVAL_FAILED',
    );
    const seen: (readonly string[] | undefined)[] = [];
    const always: Approver = {
      how: 'by test',
      ask: async (q) => {
        seen.push(q.prefix);
        return 'always';
      },
    };
    const r = await runGuardedCommand(request(cmd), envOf({ approver: always, codexHome: home }));
    expect(r).toMatchObject({ outcome: 'ran', exitCode: 0 });
    expect(r.run?.stdout).toBe('42\n');
    expect(seen).toEqual([cmd]);
    expect(readFileSync(join(home, 'policy', 'approved.toml'), 'utf8')).toContain(
      'prefix = ["python3","-c","print(6*7)"]',
    );
    const reasons = entries().map((e) => e.reason);
    expect(reasons.some((x) => /^prompt in a test: denied/.test(x))).toBe(true);
    expect(reasons.some((x) => /^prompt declined by test/.test(x))).toBe(true);
    expect(reasons.some((x) => /^prompt could not be asked by test: client gone/.test(x))).toBe(true);
    expect(
      reasons.some((x) => /^approved always for prefix "python3 -c print\(6\*7\)" by test/.test(x)),
    ).toBe(true);
  });

  it('fail-safe: a policy that fails to load denies; no backend refuses to run unsandboxed', async () => {
    const bad = Promise.reject(new Error('broken layer'));
    bad.catch(() => {});
    const r = await runGuardedCommand(request(['echo', 'x']), envOf({ engine: bad }));
    expect(r).toMatchObject({ outcome: 'refused', exitCode: 125, refusal: { code: 'POLICY_ERROR' } });
    const none = await runGuardedCommand(request(['echo', 'x']), envOf({ backend: null }));
    expect(none).toMatchObject({ outcome: 'refused', refusal: { code: 'SANDBOX_UNAVAILABLE' } });
    expect(entries().map((e) => e.decision)).toEqual(['denied', 'allowed', 'denied']);
  });

  it('a rung that cannot enforce the profile is refused; a write the policy cannot see is a file_write denial', async () => {
    const weak = await runGuardedCommand({ ...request(['true']), rung: 'seccomp' }, envOf());
    expect(weak).toMatchObject({ outcome: 'refused', refusal: { code: 'SANDBOX_UNAVAILABLE' } });
    expect(weak.assessment?.rung).toBe('seccomp');
    const outside = join(home, 'outside.txt');
    const ok: Approver = { how: 'by test', ask: async () => 'yes' };
    const w = await runGuardedCommand(
      { ...request(['python3', '-c', `open(${JSON.stringify(outside)}, "w")`]), profile: 'workspace-write' },
      envOf({ approver: ok }),
    );
    expect(w).toMatchObject({ outcome: 'ran', exitCode: 1 });
    expect(existsSync(outside)).toBe(false);
    expect(entries().some((e) => e.operation === 'file_write' && e.decision === 'denied')).toBe(true);
  });

  it('an abort kills the command; timeouts exit 124 and are audited', async () => {
    const abort = new AbortController();
    const started = request(['sleep', '30']);
    setTimeout(() => abort.abort(), 300);
    const r = await runGuardedCommand({ ...started, signal: abort.signal }, envOf());
    expect(r.run?.signal).toBe('SIGKILL');
    const t = await runGuardedCommand({ ...request(['sleep', '30']), timeoutMs: 300 }, envOf());
    expect(t.exitCode).toBe(124);
    expect(entries().some((e) => /^timeout after 300 ms/.test(e.reason))).toBe(true);
    // Cancelled before the sandbox started (while the policy was pending): nothing runs.
    const marker = join(dir, 'started');
    const early = new AbortController();
    early.abort();
    const cancelled = runGuardedCommand(
      { ...request({ script: `echo > ${marker}` }), profile: 'workspace-write', signal: early.signal },
      envOf(),
    );
    await expect(cancelled).rejects.toThrow();
    expect(existsSync(marker)).toBe(false);
  });

  it('the sandbox launch starts before the decision and waits for it: a refusal cancels it and is returned only once it has ended', async () => {
    const real = (await backendForPlatform())!;
    const log: string[] = [];
    const recording = {
      ...real,
      run: async (req: Parameters<typeof real.run>[0]) => {
        log.push(`run startWhen=${req.startWhen !== undefined}`);
        try {
          return await real.run(req);
        } catch (error) {
          log.push(`run rejected ${(error as { code?: string }).code}`);
          throw error;
        }
      },
    };
    const lazy = () => {
      log.push('engine');
      return engine;
    };
    const ok = await runGuardedCommand(request(['echo', 'hi']), envOf({ backend: recording, engine: lazy }));
    expect(ok.run?.stdout).toBe('hi\n');
    // The engine is created only after the launch has started (it loads while the sandbox is set up).
    expect(log).toEqual(['run startWhen=true', 'engine']);
    log.length = 0;
    const marker = join(dir, 'ran');
    const no = await runGuardedCommand(
      request({ script: `touch ${marker}; rm -rf /` }),
      envOf({ backend: recording, engine: lazy }),
    );
    expect(no.refusal?.code).toBe('POLICY_FORBIDDEN');
    expect(log).toEqual(['run startWhen=true', 'engine', 'run rejected RUN_NOT_STARTED']);
    expect(existsSync(marker)).toBe(false);
    // workspace-net: the early launch has started the run's egress proxy too; the refusal closes
    // it (its socket directory is gone) before the result is returned.
    const proxies = () =>
      readdirSync(tmpdir())
        .filter((n) => n.startsWith('codex-egress-'))
        .sort();
    const before = proxies();
    log.length = 0;
    const net = await runGuardedCommand(
      { ...request({ script: `touch ${marker}; rm -rf /` }), profile: 'workspace-net' },
      envOf({ backend: recording, engine: lazy }),
    );
    expect(net.refusal?.code).toBe('POLICY_FORBIDDEN');
    expect(log).toEqual(['run startWhen=true', 'engine', 'run rejected RUN_NOT_STARTED']);
    expect(proxies()).toEqual(before);
    expect(existsSync(marker)).toBe(false);
  });

  it.skipIf(!existsSync('/usr/bin/curl'))(
    'egress grants: a refused host is reported as grantable; granted for one command it is reached, audited with who granted it',
    async () => {
      const web = createServer((_q, res) => res.end('granted'));
      await new Promise<void>((r) => web.listen(0, '127.0.0.2', r));
      const port = (web.address() as AddressInfo).port;
      const net = {
        ...request([
          'curl',
          '-sS',
          '--noproxy',
          '',
          '-x',
          'http://127.0.0.1:3128',
          `http://127.0.0.2:${port}/`,
        ]),
        profile: 'workspace-net' as const,
        workspace: {
          workspaceRoots: [dir],
          extraWritableRoots: [],
          egress: { allow: [], deny: [], allowAddresses: ['127.0.0.2/32'] },
        },
      };
      const yes: Approver = { how: 'by test', ask: async () => 'yes' };
      try {
        const refused = await runGuardedCommand(net, envOf({ approver: yes }));
        expect(refused.run?.stdout).toContain('codex egress: refused');
        expect(refused.egressGrantable).toEqual(['127.0.0.2']);
        const granted = await runGuardedCommand(
          { ...net, egressGrants: ['127.0.0.2'], egressGrantedBy: 'by test' },
          envOf({ approver: yes }),
        );
        expect(granted.run?.stdout).toBe('granted');
        expect(granted.egressGrantable).toBeUndefined();
        expect(
          entries().some((e) => e.reason === 'egress grant for this command only, by test: 127.0.0.2'),
        ).toBe(true);
        // The grant was for that command only: the next one is refused again.
        const again = await runGuardedCommand(net, envOf({ approver: yes }));
        expect(again.egressGrantable).toEqual(['127.0.0.2']);
        const bad = await runGuardedCommand(
          { ...net, egressGrants: ['not a host'] },
          envOf({ approver: yes }),
        );
        expect(bad.refusal?.code).toBe('INVALID_GRANT');
      } finally {
        web.close();
      }
    },
  );

  describe('approval modes', () => {
    /** An executable in the workspace: `./hello.sh` is an unknown command to the policy. */
    const hello = () => {
      const file = join(dir, 'hello.sh');
      writeFileSync(file, '#!/bin/sh\necho contained\n');
      chmodSync(file, 0o755);
      return ['./hello.sh'];
    };
    const counting = () => {
      const asked: string[] = [];
      const approver: Approver = {
        how: 'by test',
        ask: async (q) => {
          asked.push(q.command);
          return 'yes';
        },
      };
      return { asked, approver };
    };

    it('on-request (the default): an unlisted command runs unasked in a fully enforcing rung, audited', async () => {
      const { asked, approver } = counting();
      const r = await runGuardedCommand(request(hello()), envOf({ approver }));
      expect(r).toMatchObject({ outcome: 'ran', exitCode: 0, decision: 'prompt' });
      expect(r.run?.stdout).toBe('contained\n');
      expect(asked).toEqual([]);
      expect(r.approval).toMatch(
        /^auto-approved by approval mode on-request: the sandbox contains it, rung full/,
      );
      const auto = entries().find((e) => e.details?.auto === true);
      expect(auto).toMatchObject({
        operation: 'command_exec',
        decision: 'allowed',
        details: { stage: 'approval', mode: 'on-request', rung: 'full' },
      });
      expect(auto?.reason).toMatch(/fully enforces profile offline: unknown command "\.\/hello\.sh"/);
    });

    it('untrusted asks about the same command; without an approver it is refused', async () => {
      const { asked, approver } = counting();
      const cmd = hello();
      const r = await runGuardedCommand(request(cmd), envOf({ approver, approvalMode: 'untrusted' }));
      expect(r).toMatchObject({ outcome: 'ran', approval: 'approved by test' });
      expect(asked).toEqual(['./hello.sh']);
      const refused = await runGuardedCommand(request(cmd), envOf({ approvalMode: 'untrusted' }));
      expect(refused.refusal?.code).toBe('APPROVAL_REQUIRED');
      expect(entries().some((e) => e.details?.auto === true)).toBe(false);
    });

    it('what needs more than the profile (network, a rule that asks) is still asked under on-request', async () => {
      const { asked, approver } = counting();
      const curl = await runGuardedCommand(request(['curl', '-s', 'https://example.com']), envOf());
      expect(curl.refusal?.code).toBe('APPROVAL_REQUIRED');
      expect(curl.evaluation?.causes).toContain('network');
      await runGuardedCommand(request(['python3', '-c', 'print(1)']), envOf({ approver }));
      expect(asked).toEqual(['python3 -c print(1)']);
      expect(entries().some((e) => e.details?.auto === true)).toBe(false);
    });

    it('a rung that does not enforce the profile is not containment: asked, and refused without an approver', async () => {
      const { asked, approver } = counting();
      const cmd = { ...request(hello()), rung: 'seccomp' };
      const r = await runGuardedCommand(cmd, envOf());
      expect(r.refusal?.code).toBe('APPROVAL_REQUIRED');
      const denied = entries().find((e) => e.details?.stage === 'approval');
      expect(denied?.reason).toMatch(/not run unasked: rung seccomp .* does NOT enforce filesystem-write/);
      // Asked; approved; then the sandbox still refuses the degraded rung (no --allow-degraded).
      const asked2 = await runGuardedCommand(cmd, envOf({ approver }));
      expect(asked).toEqual(['./hello.sh']);
      expect(asked2.refusal?.code).toBe('SANDBOX_UNAVAILABLE');
    });

    it('never: contained commands run, the rest is refused without asking', async () => {
      const { asked, approver } = counting();
      const ran = await runGuardedCommand(request(hello()), envOf({ approver, approvalMode: 'never' }));
      expect(ran).toMatchObject({ outcome: 'ran', exitCode: 0 });
      expect(ran.approval).toMatch(/^auto-approved by approval mode never/);
      const r = await runGuardedCommand(
        request(['python3', '-c', 'print(1)']),
        envOf({ approver, approvalMode: 'never' }),
      );
      expect(r).toMatchObject({ outcome: 'refused', exitCode: 125, refusal: { code: 'APPROVAL_NEVER' } });
      expect(asked).toEqual([]);
      expect(
        entries().some((e) => /^prompt under approval mode never: denied without asking/.test(e.reason)),
      ).toBe(true);
    });

    it('forbidden stays forbidden in every mode', async () => {
      const { asked, approver } = counting();
      for (const approvalMode of APPROVAL_MODES) {
        const r = await runGuardedCommand(request({ script: 'rm -rf /' }), envOf({ approver, approvalMode }));
        expect(r.refusal?.code).toBe('POLICY_FORBIDDEN');
      }
      expect(asked).toEqual([]);
    });
  });

  it('backendForPlatform loads only the backend for the OS', async () => {
    expect((await backendForPlatform('linux'))?.id).toBe('linux');
    expect(await backendForPlatform('aix')).toBeNull();
  });
});

describe('approval classification (pure)', () => {
  it('isUnlistedOnly: prompt whose every cause is an unlisted command', () => {
    expect(isUnlistedOnly({ decision: 'prompt', causes: ['unknown-command'] })).toBe(true);
    expect(isUnlistedOnly({ decision: 'prompt', causes: ['unknown-command', 'unlisted-arguments'] })).toBe(
      true,
    );
    expect(isUnlistedOnly({ decision: 'prompt', causes: ['unknown-command', 'network'] })).toBe(false);
    expect(isUnlistedOnly({ decision: 'prompt', causes: ['unknown-command', 'write'] })).toBe(false);
    expect(isUnlistedOnly({ decision: 'prompt', causes: ['rule'] })).toBe(false);
    expect(isUnlistedOnly({ decision: 'prompt', causes: ['other'] })).toBe(false);
    expect(isUnlistedOnly({ decision: 'prompt', causes: [] })).toBe(false);
    expect(isUnlistedOnly({ decision: 'forbidden', causes: ['unknown-command'] })).toBe(false);
    expect(isUnlistedOnly({ decision: 'allow', causes: ['unknown-command'] })).toBe(false);
  });

  it('containment: only a sandbox that enforces everything the profile needs', () => {
    const base: Assessment = {
      profile: 'offline',
      backend: 'linux',
      rung: 'full',
      mechanisms: ['bwrap', 'landlock', 'seccomp'],
      enforced: {},
      required: ['filesystem-write', 'network'],
      missing: [],
      unenforced: [],
      full: true,
      skipped: false,
      notes: [],
    };
    expect(containment(base)).toEqual({
      contained: true,
      why: 'rung full (bwrap+landlock+seccomp) fully enforces profile offline',
    });
    expect(containment({ ...base, skipped: true }).contained).toBe(false);
    const degraded = containment({ ...base, rung: 'seccomp', unenforced: ['filesystem-write'] });
    expect(degraded).toMatchObject({
      contained: false,
      why: expect.stringMatching(/does NOT enforce filesystem-write/),
    });
    expect(containment({ ...base, missing: ['secrets'] }).contained).toBe(false);
    expect(containment({ ...base, full: false }).contained).toBe(true);
    expect(containment({ ...base, full: false }, true).contained).toBe(false);
  });
});
