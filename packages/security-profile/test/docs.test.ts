import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES, profileAliases, SECURITY_PROFILES } from '../src/index.js';

const doc = readFileSync(new URL('../../../docs/security-profiles.md', import.meta.url), 'utf8');

function profileTable(): Map<string, string[]> {
  const section = doc.split('<!-- profile-table:start')[1]?.split('<!-- profile-table:end')[0];
  if (!section) throw new Error('profile table markers missing from docs/security-profiles.md');
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  return new Map(rows.map(([name, ...rest]) => [name!.replaceAll('`', ''), rest]));
}

describe('docs/security-profiles.md', () => {
  const table = profileTable();

  it('lists exactly the profiles in the code, in order', () => {
    expect([...table.keys()]).toEqual([...SECURITY_PROFILES]);
  });

  it.each(SECURITY_PROFILES)('row for %s matches the capability matrix', (profile) => {
    const caps = CAPABILITIES[profile];
    const [read, write, network, spawn, optIn, why] = table.get(profile)!;
    expect({ read, write, network, spawn, optIn, why }).toEqual({
      read: caps.read,
      write: caps.write,
      network: caps.network,
      spawn: caps.spawn,
      optIn: caps.requiresExplicitOptIn ? 'yes' : 'no',
      why: caps.summary,
    });
  });

  it('states that offline is the default', () => {
    expect(doc).toMatch(/\*\*The default is `offline`\.\*\*/);
  });

  it('documents every alias', () => {
    for (const profile of SECURITY_PROFILES) {
      for (const alias of profileAliases(profile)) expect(doc).toContain(`\`${alias}\``);
    }
  });
});
