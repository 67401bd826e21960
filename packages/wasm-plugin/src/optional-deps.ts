// The plugin runtime's heavy dependency (jco, which transpiles WASI 0.2 components) is an optional
// peer, so installing @codex/cli does not pull what only `codex plugin` with a component uses. It
// loads on first use, with one clear error when it is missing. Preview1 modules and the fuel and
// memory instrumentation (src/instrument.ts) need nothing beyond this package.
import { PluginRuntimeMissingError } from './errors.js';

/** The optional packages and the command that installs them next to the CLI. */
export const PLUGIN_RUNTIME_PACKAGES = ['@bytecodealliance/jco-transpile'] as const;
export type PluginRuntimePackage = (typeof PLUGIN_RUNTIME_PACKAGES)[number];

type Importer = (specifier: string) => Promise<unknown>;
const nativeImport: Importer = (specifier) => import(specifier);

/** Imports `name`, or throws {@link PluginRuntimeMissingError} when it is not installed. */
export async function loadOptional(
  name: PluginRuntimePackage,
  importer: Importer = nativeImport,
): Promise<unknown> {
  try {
    return await importer(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new PluginRuntimeMissingError(name, { cause: error });
    throw error;
  }
}
