// Positive keyless verification, offline: bundles from a private Sigstore stack (CA, CT log,
// transparency log; see keyless-fixture.mjs) verified with that stack's trusted root, through the
// library and through the built `codex verify --trusted-root`. Every check @sigstore/verify makes
// for a public-good bundle runs: chain, SCT, SET, tlog body, signature, identity and issuer.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttestError, TrustedRoot, verifyKeyless } from '@codex/attest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY, ISSUER, privateSigstore } from '../../../packages/attest/test/keyless-fixture.mjs';

const root = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
const data = Buffer.from('codex-cli-9.9.9.tgz, more or less\n');
let stack;
let dir;

beforeAll(async () => {
  stack = await privateSigstore(data);
  dir = mkdtempSync(join(tmpdir(), 'codex-private-stack-'));
  writeFileSync(join(dir, 'artifact.tgz'), data);
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(stack.bundle));
  writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(stack.trustedRootJson));
  execFileSync('pnpm', ['--filter', '@codex/cli', 'run', 'build'], { cwd: root, stdio: 'ignore' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy = (extra = {}) => ({
  identity: IDENTITY,
  issuer: ISSUER,
  trustedRoot: stack.trustedRoot,
  ...extra,
});
const code = (fn) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AttestError);
    return `${error.reason}: ${error.message}`;
  }
  throw new Error('expected verification to fail, but it passed');
};
const clone = (x) => JSON.parse(JSON.stringify(x));

describe('keyless verification against a private stack', () => {
  it('verifies, and reports the certificate identity and issuer', () => {
    expect(verifyKeyless(data, stack.bundle, policy())).toEqual({ identity: IDENTITY, issuer: ISSUER });
  });

  it('another identity or issuer is refused', () => {
    expect(
      code(() => verifyKeyless(data, stack.bundle, policy({ identity: 'https://github.com/evil/x' }))),
    ).toMatch(/^UNTRUSTED_SIGNER_ERROR: .*certificate identity error/);
    expect(
      code(() => verifyKeyless(data, stack.bundle, policy({ issuer: 'https://accounts.google.com' }))),
    ).toMatch(/^UNTRUSTED_SIGNER_ERROR: .*issuer/);
  });

  it('a tampered artifact is refused', () => {
    expect(code(() => verifyKeyless(Buffer.from(`${data}x`), stack.bundle, policy()))).toMatch(
      /^SIGNATURE_ERROR/,
    );
  });

  it('the same bundle against the shipped public-good root fails on the chain', () => {
    expect(code(() => verifyKeyless(data, stack.bundle, { identity: IDENTITY, issuer: ISSUER }))).toMatch(
      /^CERTIFICATE_ERROR: .*certificate chain/,
    );
  });

  it('a forged inclusion promise (integrated time moved) is refused', () => {
    const b = clone(stack.bundle);
    b.verificationMaterial.tlogEntries[0].integratedTime = String(
      Number(b.verificationMaterial.tlogEntries[0].integratedTime) + 60,
    );
    expect(code(() => verifyKeyless(data, b, policy()))).toMatch(/^TLOG_INCLUSION_PROMISE_ERROR/);
  });

  it('an SCT from a log the root does not trust is refused', () => {
    const json = clone(stack.trustedRootJson);
    json.ctlogs = [];
    expect(
      code(() => verifyKeyless(data, stack.bundle, policy({ trustedRoot: TrustedRoot.fromJSON(json) }))),
    ).toMatch(/^CERTIFICATE_ERROR/);
  });

  it('no transparency-log entry: refused (keyless needs one)', () => {
    const b = clone(stack.bundle);
    b.verificationMaterial.tlogEntries = [];
    expect(code(() => verifyKeyless(data, b, policy()))).toMatch(/^(TIMESTAMP_ERROR|TLOG_ERROR)/);
  });
});

describe('codex verify --trusted-root with the private stack', () => {
  const bin = join(root, 'apps/cli/dist/bin.cjs');
  const run = (...extra) =>
    spawnSync(
      process.execPath,
      [
        bin,
        'verify',
        join(dir, 'artifact.tgz'),
        '--bundle',
        join(dir, 'bundle.json'),
        '--certificate-oidc-issuer',
        ISSUER,
        ...extra,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH, CODEX_HOME: dir } },
    );

  it('exit 0 and names the signer', () => {
    const r = run('--certificate-identity', IDENTITY, '--trusted-root', join(dir, 'trusted_root.json'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `verified: ${join(dir, 'artifact.tgz')} signed by ${IDENTITY} (issuer ${ISSUER})\n`,
    );
  });

  it('exit 1 for another identity, one line', () => {
    const r = run(
      '--certificate-identity',
      'https://github.com/evil/x',
      '--trusted-root',
      join(dir, 'trusted_root.json'),
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/certificate identity error .*\[UNTRUSTED_SIGNER_ERROR\]/);
  });

  it('exit 1 without --trusted-root: the shipped root does not trust this CA', () => {
    const r = run('--certificate-identity', IDENTITY);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Failed to verify certificate chain \[CERTIFICATE_ERROR\]/);
  });
});
