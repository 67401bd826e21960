import type { SecurityProfileErrorCode } from './errors.js';
// Optional peer dependencies. Heavy packages that only one feature needs (the OpenTelemetry SDK
// for OTLP export, BullMQ for distributed plans) are optional peers of the packages that use
// them, so installing the CLI does not pull them. They are loaded when the feature is used, and
// a missing one is one clear error naming the feature and the install command, not a stack trace.
//
// The caller passes its own `load` (a closure over `import('…')`), because a bare specifier is
// resolved from the module that imports it: the lookup must start in the package that declares
// the peer, not here.
import { CodexError } from './errors.js';

/** A feature needs packages that are not installed. `packages` are `name@range` install specs. */
export class OptionalDependencyMissingError extends CodexError<SecurityProfileErrorCode> {
  readonly feature: string;
  readonly packages: readonly string[];

  constructor(feature: string, packages: readonly string[], options?: { cause?: unknown }) {
    const list = packages.join(' ');
    super(
      'OPTIONAL_DEPENDENCY_MISSING',
      `${feature} needs ${packages.length === 1 ? 'a package' : 'packages'} that ${
        packages.length === 1 ? 'is' : 'are'
      } not installed: ${list}; install ${packages.length === 1 ? 'it' : 'them'} next to codex ` +
        `(npm install ${list}, or npm install -g ${list} for a global codex)`,
      options,
    );
    this.feature = feature;
    this.packages = packages;
  }
}

/** True for the error a dynamic import (or a CommonJS require) throws when a package cannot be found. */
export function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Runs `load` (which imports the optional packages) and returns its result; when a package is
 * missing, throws {@link OptionalDependencyMissingError} for `feature` naming `packages`.
 * Any other failure (a package that is installed but broken) is rethrown as it is.
 */
export async function importOptional<T>(
  feature: string,
  packages: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isModuleNotFound(error))
      throw new OptionalDependencyMissingError(feature, packages, { cause: error });
    throw error;
  }
}
