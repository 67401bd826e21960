// `@codex/supervisor-queue` (BullMQ on Redis) is an optional peer of the CLI: only
// `codex worker` and `codex supervise --queue` need it, so a plain install does not pull BullMQ.
import { importOptional } from '@codex/security-profile';

export type QueueModule = typeof import('@codex/supervisor-queue');

/** Loads the queue engine, or throws OPTIONAL_DEPENDENCY_MISSING naming the install command. */
export function loadQueueModule(feature: string, version: string): Promise<QueueModule> {
  return importOptional(
    feature,
    [`@codex/supervisor-queue@${version}`],
    () => import('@codex/supervisor-queue'),
  );
}
