// The OS-neutral sandbox contract lives in @codex/sandbox-contract, shared with the macOS and
// Windows backends; this module re-exports it so existing imports keep working.
export { DEFAULT_ENV_HYGIENE, sanitizeEnv } from '@codex/sandbox-contract';
