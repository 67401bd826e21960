import { CodexError } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import {
  createPolicyEngine,
  DEFAULT_POLICY,
  evaluate,
  LIMITS,
  PolicyContextError,
  PolicyExampleError,
  PolicyLoadError,
  parsePolicyObject,
  parsePolicyText,
} from '../src/index.js';
import { ctx } from './helpers.js';

const USER_TOML = `
version = 1
layer = "user"

[[rule]]
id = "npm-test"
prefix = [["npm", "pnpm"], ["test", "run"]]
decision = "allow"
justification = "project tests are fine"
match = ["npm test", "pnpm run lint"]
not_match = ["npm install"]
`;

async function loadError(
  policy: string,
  kind: 'user' | 'project' | 'admin' = 'user',
  source = 'policy.toml',
) {
  try {
    await createPolicyEngine({ layers: [{ kind, source, policy }] });
  } catch (error) {
    return error as CodexError;
  }
  throw new Error('expected the policy to refuse to load');
}

describe('policy files: validation', () => {
  it('loads a valid TOML user layer and applies it', async () => {
    const engine = await createPolicyEngine({
      layers: [{ kind: 'user', source: 'user.toml', policy: USER_TOML }],
    });
    expect(engine.evaluate(['npm', 'test'], ctx('offline')).decision).toBe('allow');
    expect(engine.evaluate(['npm', 'install'], ctx('offline')).decision).toBe('prompt');
    expect(
      engine.rules.some((r) => r.id === 'npm-test' && r.layer === 'user' && r.source === 'user.toml'),
    ).toBe(true);
  });

  it('loads JSON by extension and by format', async () => {
    const json = JSON.stringify({
      rule: [
        { id: 'make', prefix: ['make'], decision: 'allow', justification: 'builds', match: ['make all'] },
      ],
    });
    for (const layer of [
      { kind: 'user' as const, source: 'p.json', policy: json },
      { kind: 'project' as const, source: 'inline', policy: json, format: 'json' as const, trusted: true },
    ]) {
      const engine = await createPolicyEngine({ layers: [layer] });
      expect(engine.evaluate(['make', 'all'], ctx('offline')).decision).toBe('allow');
    }
  });

  it('TOML syntax errors name the file, line and column', async () => {
    const error = await loadError('[[rule]\nid = "x"', 'user', '/home/me/.codex/policy.toml');
    expect(error).toBeInstanceOf(PolicyLoadError);
    expect(error.code).toBe('POLICY_LOAD');
    expect(error.message).toMatch(
      /^\/home\/me\/\.codex\/policy\.toml: \(root\): TOML syntax error at line 1, column \d+/,
    );
    expect(error.message).not.toContain('\n');
  });

  it('schema errors name the rule id and the key', async () => {
    const error = await loadError(
      '[[rule]]\nid = "bad"\nprefix = ["x"]\ndecision = "maybe"\njustification = "j"',
    );
    expect(error.code).toBe('POLICY_LOAD');
    expect(error.message).toContain('rule["bad"].decision');
  });

  it('unknown keys are errors, not silently ignored', async () => {
    const error = await loadError(
      '[[rule]]\nid = "r"\nprefix = ["x"]\ndecision = "allow"\njustification = "j"\nunles_any = ["-x"]',
    );
    expect(error.message).toContain('unknown key unles_any');
  });

  it('a rule without a justification or prefix is refused', async () => {
    expect(
      (await loadError('[[rule]]\nid = "r"\nprefix = []\ndecision = "allow"\njustification = "j"')).message,
    ).toContain('prefix');
    expect((await loadError('[[rule]]\nid = "r"\nprefix = ["x"]\ndecision = "allow"')).message).toContain(
      'justification',
    );
  });

  it('invalid regular expressions are refused with the key', async () => {
    const error = await loadError(
      '[[rule]]\nid = "re"\nprefix = ["x"]\ndecision = "allow"\njustification = "j"\nwhen_any = ["re:("]',
    );
    expect(error).toBeInstanceOf(PolicyLoadError);
    expect(error.message).toContain('rule["re"].when_any.0');
  });

  it('duplicate rule ids are refused', async () => {
    const rule = '[[rule]]\nid = "dup"\nprefix = ["x"]\ndecision = "allow"\njustification = "j"\n';
    expect((await loadError(rule + rule)).message).toContain('duplicate rule id');
  });

  it('a per-profile decision map must have a default and only known profiles', async () => {
    const base = '[[rule]]\nid = "p"\nprefix = ["x"]\njustification = "j"\n';
    expect((await loadError(`${base}decision = { trusted = "allow" }`)).code).toBe('POLICY_LOAD');
    expect((await loadError(`${base}decision = { default = "allow", offlin = "prompt" }`)).message).toContain(
      'offlin',
    );
    const ok = await createPolicyEngine({
      layers: [
        {
          kind: 'user',
          source: 'u',
          policy: `${base}decision = { default = "prompt", offline = "forbidden" }`,
        },
      ],
    });
    expect(ok.evaluate(['x'], ctx('offline')).decision).toBe('forbidden');
    expect(ok.evaluate(['x'], ctx('trusted')).decision).toBe('prompt');
  });

  it('a file that declares another layer than it is loaded as is refused', async () => {
    const error = await loadError(USER_TOML, 'admin');
    expect(error.message).toContain('declares layer "user"');
  });

  it('parsePolicyText validates without creating an engine', () => {
    expect(parsePolicyText(USER_TOML, 'u.toml').rule[0]!.id).toBe('npm-test');
    expect(() => parsePolicyText('{', 'x.json')).toThrow(PolicyLoadError);
  });
});

describe('policy files: failing examples refuse to load', () => {
  const rule = (extra: string) =>
    `[[rule]]\nid = "git-read"\nprefix = ["git", ["status", "log"]]\ndecision = "allow"\njustification = "read-only"\nunless_any = ["--output"]\n${extra}`;

  it('a match example that does not match names the rule and the example', async () => {
    const error = await loadError(rule('match = ["git status", "git push"]'));
    expect(error).toBeInstanceOf(PolicyExampleError);
    expect(error.code).toBe('POLICY_EXAMPLE_FAILED');
    expect(error.message).toBe(
      'policy.toml: rule "git-read": example "git push" does not match the rule (listed in match)',
    );
    expect((error as PolicyExampleError).ruleId).toBe('git-read');
  });

  it('a not_match example that matches refuses to load', async () => {
    const error = await loadError(rule('not_match = ["git log --oneline"]'));
    expect(error.code).toBe('POLICY_EXAMPLE_FAILED');
    expect(error.message).toContain('"git log --oneline" matches the rule (listed in not_match)');
  });

  it('examples are parsed with the real shell parser (quoting counts)', async () => {
    await expect(
      createPolicyEngine({
        layers: [{ kind: 'user', source: 'u', policy: rule(`match = ["'git' \\"status\\""]`) }],
      }),
    ).resolves.toBeDefined();
    const error = await loadError(
      rule('not_match = ["git log --output=x", "git \'log\' \\"--output\\" x", "git log --oneline"]'),
    );
    expect(error.message).toContain('git log --oneline');
  });

  it('an example that is not one simple literal command is refused', async () => {
    for (const bad of ['git status && ls', 'git $X', 'git status > out']) {
      const error = await loadError(rule(`match = [${JSON.stringify(bad)}]`));
      expect(error.code, bad).toBe('POLICY_EXAMPLE_FAILED');
      expect(error.message).toContain('not a single simple command');
    }
  });

  it('argv-array examples are supported', async () => {
    const error = await loadError(rule('match = [["git", "status"], ["git", "log", "--output", "x"]]'));
    expect(error.message).toContain('git log --output x');
  });

  it('the built-in default policy carries examples for every rule and they pass', async () => {
    const rules = DEFAULT_POLICY.rule ?? [];
    expect(rules.length).toBeGreaterThan(20);
    for (const r of rules) expect((r.match ?? []).length, r.id).toBeGreaterThan(0);
    await expect(createPolicyEngine()).resolves.toBeDefined();
  });

  it('the built-in policy is its own validated form, and it is frozen (engines skip the schema for it)', () => {
    // engine.ts uses DEFAULT_POLICY as a PolicySpec without parsing it: that holds only while
    // the schema returns an equal object for it and nothing can change it afterwards.
    expect(parsePolicyObject(DEFAULT_POLICY, 'builtin')).toStrictEqual(DEFAULT_POLICY);
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
    expect(Object.isFrozen(DEFAULT_POLICY.rule)).toBe(true);
    expect(Object.isFrozen(DEFAULT_POLICY.rule?.[0]?.prefix)).toBe(true);
    const rules = DEFAULT_POLICY.rule as { id: string }[];
    expect(() => {
      rules.push({ id: 'evil' });
    }).toThrow(TypeError);
  });
});

describe('layering: default < user < project < admin', () => {
  const adminForbidsPush = `
[[rule]]
id = "no-push"
prefix = ["git", "push"]
decision = "forbidden"
justification = "company policy: pushes go through CI"
match = ["git push origin main"]
`;
  const allowPush = (id: string) => `
[[rule]]
id = "${id}"
prefix = ["git", "push"]
decision = "allow"
justification = "I want to push"
`;

  it('a user or trusted project layer can loosen the defaults for a command', async () => {
    for (const layer of [
      { kind: 'project' as const, source: 'p', policy: allowPush('push-ok'), trusted: true },
      { kind: 'user' as const, source: 'u', policy: allowPush('push-ok') },
    ]) {
      const engine = await createPolicyEngine({ layers: [layer] });
      const r = engine.evaluate(['git', 'push'], ctx('workspace-net'));
      expect(r.decision).toBe('allow');
      expect(r.matchedRules.map((m) => m.id)).toEqual(expect.arrayContaining(['push-ok', 'git.network']));
    }
  });

  it('an untrusted project layer can only tighten: its allow is ignored, its prompt/forbid applies', async () => {
    const engine = await createPolicyEngine({
      layers: [
        { kind: 'project', source: '.codex/policy.toml', policy: allowPush('push-ok') },
        {
          kind: 'project',
          source: 'tight.toml',
          policy: `[[rule]]\nid = "no-cat"\nprefix = ["cat"]\ndecision = "forbidden"\njustification = "x"\n`,
        },
      ],
    });
    const push = engine.evaluate(['git', 'push'], ctx('workspace-net'));
    expect(push.decision).toBe('prompt');
    expect(push.matchedRules.map((m) => m.id)).toContain('push-ok');
    const cat = engine.evaluate(['cat', 'README.md'], ctx('offline'));
    expect(cat.decision).toBe('forbidden');
    expect(cat.reasons.join(' ')).toContain('tighten-only');
  });

  it('an admin forbid cannot be loosened by user or project layers, whatever the order given', async () => {
    const layers = [
      { kind: 'user' as const, source: 'user.toml', policy: allowPush('user-push') },
      { kind: 'admin' as const, source: 'admin.toml', policy: adminForbidsPush },
      { kind: 'project' as const, source: 'project.toml', policy: allowPush('project-push') },
    ];
    for (const order of [layers, [...layers].reverse()]) {
      const engine = await createPolicyEngine({ layers: order });
      for (const profile of ['offline', 'workspace-net', 'trusted']) {
        const r = engine.evaluate({ script: 'git status && git push origin main' }, ctx(profile));
        expect(r.decision).toBe('forbidden');
        expect(r.reasons.join()).toContain('company policy');
      }
    }
  });

  it('a user layer can tighten the defaults', async () => {
    const engine = await createPolicyEngine({
      layers: [
        {
          kind: 'user',
          source: 'u',
          policy: '[[rule]]\nid = "no-cat"\nprefix = ["cat"]\ndecision = "forbidden"\njustification = "no"',
        },
      ],
    });
    expect(engine.evaluate(['cat', 'x'], ctx('offline')).decision).toBe('forbidden');
    expect(engine.evaluate(['ls'], ctx('offline')).decision).toBe('allow');
  });

  it('network and write effects of lower layers stay in force when a higher layer allows', async () => {
    const engine = await createPolicyEngine({
      layers: [
        {
          kind: 'project',
          source: 'p',
          policy:
            '[[rule]]\nid = "curl-ok"\nprefix = ["curl"]\ndecision = "allow"\njustification = "x"\n' +
            '[[rule]]\nid = "rm-ok"\nprefix = ["rm"]\ndecision = "allow"\njustification = "x"',
        },
      ],
    });
    expect(engine.evaluate(['curl', 'https://x'], ctx('offline')).decision).toBe('prompt');
    expect(engine.evaluate(['curl', 'https://x'], ctx('workspace-net')).decision).toBe('allow');
    expect(engine.evaluate(['curl', '-o', '/etc/x', 'https://x'], ctx('workspace-net')).decision).toBe(
      'forbidden',
    );
    expect(engine.evaluate(['rm', '/etc/passwd'], ctx('workspace-write')).decision).toBe('forbidden');
    expect(engine.evaluate(['rm', 'build/x'], ctx('workspace-write')).decision).toBe('allow');
  });

  it('without defaults, every command is unknown (prompt)', async () => {
    const engine = await createPolicyEngine({ defaults: false });
    expect(engine.evaluate(['ls'], ctx('trusted')).decision).toBe('prompt');
  });
});

describe('evaluate() and contexts', () => {
  it('the convenience evaluate() uses the defaults', async () => {
    const r = await evaluate({ script: 'ls | grep x > out.txt' }, ctx('workspace-write'));
    expect(r.decision).toBe('allow');
    expect(r.segments.filter((s) => s.argv.length > 0).map((s) => s.argv[0])).toEqual(['ls', 'grep']);
    expect(r.segments.flatMap((s) => s.writes)).toEqual(['/home/me/proj/out.txt']);
    const r2 = await evaluate({ script: 'ls | grep x > /etc/x' }, ctx('workspace-write'));
    expect(r2.decision).toBe('forbidden');
  });

  it('reports every segment with its own decision and depth', async () => {
    const r = await evaluate(
      ['bash', '-lc', 'git status && curl https://x | sh -c "rm -rf /"'],
      ctx('workspace-net'),
    );
    expect(r.decision).toBe('forbidden');
    const by = Object.fromEntries(
      r.segments.filter((s) => s.argv.length > 0).map((s) => [s.argv.join(' '), [s.decision, s.depth]]),
    );
    expect(by).toMatchObject({
      'bash -lc git status && curl https://x | sh -c "rm -rf /"': ['allow', 0],
      'git status': ['allow', 1],
      'curl https://x': ['allow', 1],
      'sh -c rm -rf /': ['prompt', 1],
      'rm -rf /': ['forbidden', 2],
    });
    expect(r.matchedRules[0]!.decision).toBe('forbidden');
  });

  it('an invalid context throws PolicyContextError (never a silent allow)', async () => {
    await expect(evaluate(['ls'], { cwd: 'relative/dir' })).rejects.toBeInstanceOf(PolicyContextError);
    await expect(evaluate(['ls'], { cwd: '/w', profile: 'superuser' })).rejects.toMatchObject({
      code: 'POLICY_CONTEXT',
    });
    await expect(
      evaluate(['ls'], { cwd: '/w', profile: 'offline', extraWritableRoots: ['/x'] }),
    ).resolves.toBeDefined();
  });

  it('the default profile is offline', async () => {
    expect((await evaluate({ script: 'echo x > a' }, { cwd: '/w' })).profile).toBe('offline');
    expect((await evaluate({ script: 'echo x > a' }, { cwd: '/w' })).decision).toBe('forbidden');
  });

  it('extra writable roots apply under workspace profiles', async () => {
    const c = ctx('workspace-write', { extraWritableRoots: ['/var/cache/build'] });
    expect((await evaluate({ script: 'echo x > /var/cache/build/a' }, c)).decision).toBe('allow');
    expect((await evaluate({ script: 'echo x > /var/cache/other' }, c)).decision).toBe('forbidden');
    expect(
      (
        await evaluate(
          { script: 'echo x > /srv/cache/a' },
          ctx('workspace-write', { extraWritableRoots: ['/srv/cache'] }),
        )
      ).decision,
    ).toBe('allow');
  });

  it('limits: deep shell nesting, huge scripts and too many commands are prompt, never allow', async () => {
    let script = 'ls';
    for (let i = 0; i < LIMITS.maxShellDepth + 2; i++) script = `bash -c ${shellQuote(script)}`;
    const deep = await evaluate(['bash', '-lc', script], ctx('trusted'));
    expect(deep.decision).toBe('prompt');
    expect(deep.reasons.join()).toContain('nesting deeper than');
    const huge = await evaluate({ script: `echo ${'a'.repeat(LIMITS.maxScriptLength)}` }, ctx('trusted'));
    expect(huge.decision).toBe('prompt');
    expect(huge.reasons.join()).toContain('not analysed');
    const many = await evaluate(
      { script: Array.from({ length: LIMITS.maxSegments + 1 }, () => 'ls').join(';') },
      ctx('trusted'),
    );
    expect(many.decision).toBe('prompt');
    // Within the limits the same commands are allowed.
    expect(
      (await evaluate({ script: Array.from({ length: 50 }, () => 'ls').join(';') }, ctx('trusted'))).decision,
    ).toBe('allow');
  });

  it('every error class is a CodexError with a stable code', () => {
    expect(new PolicyLoadError('f', 'k', 'p')).toBeInstanceOf(CodexError);
    expect(new PolicyExampleError('f', 'r', 'e', 'p').code).toBe('POLICY_EXAMPLE_FAILED');
    expect(new PolicyContextError('m').code).toBe('POLICY_CONTEXT');
  });
});

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
