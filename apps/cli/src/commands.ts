import type { Command } from './spec.js';

/** Subcommands, loaded lazily so that each pays only for the packages it uses. */
export const COMMANDS: Readonly<
  Record<string, { summary: string; load: () => Promise<{ command: Command }> }>
> = {
  init: {
    summary: 'Write a commented config.toml and a project exec policy for the build tools found here',
    load: () => import('./commands/init.js'),
  },
  exec: {
    summary: 'Run a command: exec policy, then the OS sandbox, with every decision audited',
    load: () => import('./commands/exec.js'),
  },
  policy: { summary: 'Check a command against the exec policy', load: () => import('./commands/policy.js') },
  sandbox: {
    summary: 'Show which sandbox mechanisms work here, or run a command in the sandbox only',
    load: () => import('./commands/sandbox.js'),
  },
  audit: { summary: 'Read, query and verify the audit log', load: () => import('./commands/audit.js') },
  supervise: {
    summary: 'Run a plan of sub-agents (DAG): caps, timeouts, cancellation, merged results',
    load: () => import('./commands/run.js'),
  },
  worker: {
    summary: 'Run tasks of distributed plans from a Redis queue',
    load: () => import('./commands/worker.js'),
  },
  plugin: {
    summary: 'Run or inspect a sandboxed WebAssembly plugin',
    load: () => import('./commands/plugin.js'),
  },
  mcp: {
    summary: 'Serve a guarded shell over MCP; permission proxy in front of an MCP server; tool pins',
    load: () => import('./commands/mcp.js'),
  },
  research: {
    summary: 'Research a question from local files or a SearXNG-style API into a cited report',
    load: () => import('./commands/research.js'),
  },
  verify: {
    summary: 'Verify a file against a sigstore bundle (key or keyless)',
    load: () => import('./commands/verify.js'),
  },
  profile: {
    summary: 'List security profiles or show the sandbox policy of one',
    load: () => import('./commands/profile.js'),
  },
  config: {
    summary: 'Show the effective configuration and where it came from',
    load: () => import('./commands/config.js'),
  },
  completion: {
    summary: 'Print a shell completion script (bash, zsh or fish)',
    load: () => import('./commands/completion.js'),
  },
};
