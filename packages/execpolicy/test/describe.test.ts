import { describe, expect, it } from 'vitest';
import { describeEvaluation } from '../src/index.js';
import { ctx, defaultEngine } from './helpers.js';

const tags = (style: string, text: string) => `<${style}>${text}</${style}>`;

describe('describeEvaluation', () => {
  it('the decision with the profile, then each reason', async () => {
    const e = await defaultEngine();
    const r = e.evaluate(['frobnicate', '--all'], ctx('offline'));
    const lines = describeEvaluation(r);
    expect(lines[0]).toBe('prompt (profile offline)');
    expect(lines.slice(1)).toEqual(r.reasons.map((x) => `  ${x}`));
    expect(describeEvaluation(r, false, tags)[0]).toBe('<warning>prompt</warning> (profile offline)');
  });

  it('explain: every segment indented by depth with its reasons and writes, then the matched rules', async () => {
    const e = await defaultEngine();
    const r = e.evaluate({ script: "ls -la && bash -c 'echo hi > out.txt'" }, ctx('workspace-write'));
    const lines = describeEvaluation(r, true, tags);
    expect(lines).toContain('Segments:');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}✓ <ok>allow {4}<\/ok> ls -la$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}. <\w+>\w+ *<\/\w+> echo hi$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {8}writes \/.*out\.txt$/));
    const rules = lines.indexOf('Matched rules:');
    expect(rules).toBeGreaterThan(lines.indexOf('Segments:'));
    expect(lines[rules + 1]).toMatch(/^ {2}\S+ \[default: builtin\] → \w+$/);
  });

  it('explain with no rule matched says so; odd words are quoted', async () => {
    const e = await defaultEngine();
    const r = e.evaluate(['frobnicate', 'two words'], ctx('offline'));
    const lines = describeEvaluation(r, true);
    expect(lines.at(-1)).toBe('Matched rules: none');
    expect(lines).toContain('  ? prompt    frobnicate "two words"');
  });
});
