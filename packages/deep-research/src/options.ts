import { toConfigIssues } from '@codex/security-profile';
import type * as z from '@codex/security-profile/zod';
import { ResearchConfigError } from './errors.js';

/** Validates `input` with `schema`, throwing {@link ResearchConfigError} naming `source`, key and problem. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ResearchConfigError(source, toConfigIssues(result.error));
  return result.data;
}
