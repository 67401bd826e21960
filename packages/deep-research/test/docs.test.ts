import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveDedupOptions } from '../src/dedup.js';
import { dedupOptionsSchema, ERROR_CODES } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const docs = readFileSync(new URL('../../../docs/deep-research.md', import.meta.url), 'utf8');

describe('docs match the code', () => {
  it('the README lists every error code', () => {
    for (const code of ERROR_CODES) expect(readme, code).toContain(`\`${code}\``);
  });

  it('docs/deep-research.md documents every dedup option with its real default', () => {
    const defaults = resolveDedupOptions();
    for (const key of Object.keys(dedupOptionsSchema.def.shape ?? {})) {
      expect(docs, key).toMatch(new RegExp(`\\| \`${key}\`(?: × rows)? +\\|`));
    }
    expect(docs).toMatch(new RegExp(`\\| \`numPerm\` +\\| ${defaults.numPerm} +\\|`));
    expect(docs).toMatch(
      new RegExp(`\\| \`bands\` × rows +\\| ${defaults.bands} × ${defaults.numPerm / defaults.bands} +\\|`),
    );
    expect(docs).toMatch(new RegExp(`\\| \`shingleSize\` +\\| ${defaults.shingleSize} words +\\|`));
    expect(docs).toMatch(new RegExp(`\\| \`jaccardThreshold\` +\\| ${defaults.jaccardThreshold} +\\|`));
    expect(docs).toMatch(new RegExp(`\\| \`simhashMaxHamming\` +\\| ${defaults.simhashMaxHamming} +\\|`));
    expect(docs).toMatch(
      new RegExp(`\\| \`maxBucketComparisons\` +\\| ${defaults.maxBucketComparisons} +\\|`),
    );
  });
});
