// The one compile of native/codex-sandbox-helper.c, with the flags of native/build.json. The
// package build runs it through scripts/build-helper.mjs (which imports dist/helper-build.js);
// the probe runs it at run time into a cache when no built helper is there. Never downloads
// anything.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HELPER_NAME = 'codex-sandbox-helper';

/** The package directory: the parent of src/ and of dist/. */
const packageDir = () => join(dirname(fileURLToPath(import.meta.url)), '..');

/** `native/codex-sandbox-helper.c` of this package. */
export function helperSource(): string {
  return join(packageDir(), 'native', `${HELPER_NAME}.c`);
}

/**
 * The compiler flags of the helper, from `native/build.json`: one list for the build script and
 * the run-time fallback.
 *
 * `staticFlags` are tried first on top of `cflags`: a static link. The helper runs twice per
 * sandboxed command (before bwrap, to join the run's cgroup, and inside it, to apply Landlock and
 * seccomp); a static binary skips the dynamic loader and libc's relocation both times. Where the
 * static C library is not installed (glibc-static is a separate package on some distributions)
 * that link fails, and the helper is linked dynamically with the same `cflags` otherwise.
 */
export function helperFlags(): { cflags: string[]; staticFlags: string[] } {
  const json = JSON.parse(readFileSync(join(packageDir(), 'native', 'build.json'), 'utf8')) as {
    cflags: string[];
    static?: unknown;
  };
  return { cflags: json.cflags, staticFlags: Array.isArray(json.static) ? (json.static as string[]) : [] };
}

export type HelperCompile =
  | { readonly ok: true; readonly cc: string; readonly linked: 'static' | 'dynamic' }
  /** The compiler ran and failed (or, at run time, could not finish). */
  | {
      readonly ok: false;
      readonly cc: string;
      readonly status: number | null;
      readonly error: Error | undefined;
      readonly stderr: string;
    }
  /** No C compiler at all. */
  | { readonly ok: false; readonly cc: null };

/**
 * Compiles `source` into `out` with the first C compiler there is (`cc` — i.e. `$CC` — then cc,
 * gcc, clang), writing `out.tmp-<pid>` and renaming it over `out`, so a running sandbox never
 * executes a half-written file. A failed compile leaves nothing behind.
 *
 * `build` (the package build): the compiler writes to this process's terminal, only a missing
 * compiler (ENOENT) moves on to the next one, and the binary is made 0755. Otherwise (the
 * run-time fallback) its output is captured and any failure to run it (missing, 60 s timeout)
 * moves on.
 */
export function compileHelper(o: {
  readonly source: string;
  readonly out: string;
  readonly cflags: readonly string[];
  /** Tried first (a static link); on failure the compile is repeated without them. */
  readonly staticFlags?: readonly string[];
  readonly cc: string | undefined;
  readonly build: boolean;
}): HelperCompile {
  for (const cc of [o.cc, 'cc', 'gcc', 'clang'].filter((x): x is string => Boolean(x))) {
    const tmp = `${o.out}.tmp-${process.pid}`;
    const run = (extra: readonly string[], quiet: boolean) => {
      const args = [...o.cflags, ...extra, '-o', tmp, o.source];
      return o.build && !quiet
        ? spawnSync(cc, args, { stdio: 'inherit' })
        : spawnSync(cc, args, { encoding: 'utf8', timeout: 60_000 });
    };
    const staticFlags = o.staticFlags ?? [];
    // Quiet: a missing static libc is expected on some machines and is not an error.
    const staticRun = staticFlags.length > 0 ? run(staticFlags, true) : undefined;
    const linkedStatically = staticRun !== undefined && staticRun.status === 0 && !staticRun.error;
    if (staticRun && !linkedStatically) rmSync(tmp, { force: true });
    const r = linkedStatically ? staticRun : run([], false);
    if (r.error && (!o.build || (r.error as NodeJS.ErrnoException).code === 'ENOENT')) continue;
    if (r.status !== 0) {
      rmSync(tmp, { force: true });
      return { ok: false, cc, status: r.status, error: r.error, stderr: String(r.stderr ?? '') };
    }
    if (o.build) chmodSync(tmp, 0o755);
    renameSync(tmp, o.out);
    return { ok: true, cc, linked: linkedStatically ? 'static' : 'dynamic' };
  }
  return { ok: false, cc: null };
}
