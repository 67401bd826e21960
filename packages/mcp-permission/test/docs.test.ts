import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { classifyTool, parseMcpProxyConfig, resolveRule } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = (lang: string) =>
  [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('README', () => {
  it('the TOML proxy config example is valid and means what the comments say', () => {
    const [toml] = blocks('toml');
    const config = parseMcpProxyConfig(parseToml(toml!), 'README.md');
    expect(config).toMatchObject({
      approval_fallback: 'deny',
      on_tool_change: 'block',
      max_message_bytes: 4194304,
    });
    expect(resolveRule(config, 'filesystem', 'move_file').forbidden).toBe(true);
    expect(resolveRule(config, 'filesystem', 'read_text_file')).toMatchObject({
      risk: 'medium',
      requiresApproval: false,
    });
    expect(resolveRule(config, 'other', 'anything').requiresApproval).toBe(true);
  });

  it('every client snippet is valid JSON that runs `codex mcp proxy … -- <server>`', () => {
    const json = blocks('json');
    expect(json.length).toBe(3);
    for (const text of json) {
      const data = JSON.parse(text) as Record<string, Record<string, { command: string; args: string[] }>>;
      const servers = Object.values(data.mcpServers ?? data.servers ?? {});
      expect(servers.length).toBe(1);
      const [server] = servers;
      expect(server!.command).toBe('codex');
      expect(server!.args.slice(0, 2)).toEqual(['mcp', 'proxy']);
      expect(server!.args).toContain('--');
    }
  });

  it('the classifyTool example prints what the README says', () => {
    expect(classifyTool({ name: 'run_shell', annotations: { readOnlyHint: true } })).toEqual({
      level: 'critical',
      source: 'heuristics',
      reasons: ['name:shell+run'],
    });
    expect(readme).toContain("reasons: ['name:shell+run']");
  });
});
