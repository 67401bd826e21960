import type { SandboxBackend } from '@codex/sandbox-contract';

/**
 * The sandbox backend for this OS: Linux (bubblewrap + Landlock + seccomp), macOS (Seatbelt) or
 * Windows (AppContainer); `null` elsewhere (callers refuse to run unsandboxed). Only the backend
 * for the running OS is loaded.
 */
export async function backendForPlatform(
  platform: NodeJS.Platform = process.platform,
): Promise<SandboxBackend | null> {
  if (platform === 'linux') return (await import('@codex/sandbox-linux')).linuxSandbox;
  if (platform === 'darwin') return (await import('@codex/sandbox-macos')).macosSandbox;
  if (platform === 'win32') return (await import('@codex/sandbox-windows')).windowsSandbox;
  return null;
}
