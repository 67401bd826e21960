import { toSandboxPolicy } from '@codex/security-profile';
import { createLinuxSandbox } from '/work/main/packages/sandbox-linux/dist/index.js';

const sandbox = createLinuxSandbox();
await sandbox.probe();
const policy = toSandboxPolicy('offline');
for (let i = 0; i < 3; i++) await sandbox.run({ policy, command: ['true'], rung: 'full' });
const n = +process.argv[2] || 1;
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const r = await sandbox.run({ policy, command: ['true'], rung: 'full' });
  if (r.exitCode) throw new Error(r.stderr);
}
console.log('full per run ms', ((performance.now() - t0) / n).toFixed(2));
