/**
 * `@codex/security-profile/zod`: the zod every `@codex/*` package validates with, as one
 * tree-shaken module. Use it as a namespace: `import * as z from '@codex/security-profile/zod'`.
 *
 * `import { z } from 'zod'` loads zod's whole classic API, about 95 modules of which 60 are
 * locales, on every start: about 70 ms before the first line of `codex exec` runs. This entry is
 * bundled into dist with only the builders listed here (esbuild drops the rest), so importing it
 * costs a fraction of that. English messages stay: zod registers its `en` locale when the first
 * schema is built. The schemas are ordinary zod 4 schemas: they compose with, and are accepted by,
 * code that uses the `zod` package itself (the MCP SDK, plan authors).
 *
 * This file is also the entry's declaration file (scripts/zod-declarations.mjs copies it), so it
 * holds re-exports only. A builder a package needs that is missing here is a type error at its
 * use, so the list cannot silently fall behind.
 */

export type { infer, ZodOptional, ZodRawShape, ZodTypeAny } from 'zod';
export {
  array,
  boolean,
  custom,
  enum,
  input,
  iso,
  literal,
  looseObject,
  NEVER,
  null,
  number,
  object,
  output,
  record,
  strictObject,
  string,
  union,
  unknown,
  ZodError,
  ZodType,
} from 'zod';
