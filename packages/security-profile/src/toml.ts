/**
 * `@codex/security-profile/toml`: the TOML parser every `@codex/*` package reads config and policy
 * files with (smol-toml), bundled into this package as one module. Imported from npm it is nine
 * modules, and each costs a Node 20 ESM load on every `codex` start that reads a file.
 */
export { parse, TomlError } from 'smol-toml';
