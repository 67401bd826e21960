import { readFileSync } from 'node:fs';
import { QueueKeyError, QueueUrlError } from './errors.js';

/** A parsed `redis://[user:pass@]host[:port][/db]` URL. */
export interface QueueTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** The URL with any password masked, for messages and logs. */
  readonly display: string;
}

/** Parses and checks a queue URL; throws {@link QueueUrlError} (INVALID_QUEUE_URL) naming the problem. */
export function parseQueueUrl(raw: string): QueueTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new QueueUrlError(raw, 'not a URL; expected redis://HOST:PORT/DB');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new QueueUrlError(raw, `scheme "${url.protocol.replace(/:$/, '')}" is not redis or rediss`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new QueueUrlError(raw, 'no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new QueueUrlError(raw, `bad port "${url.port}"`);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path))
    throw new QueueUrlError(raw, `database "${path}" is not a number from 0 to 15`);
  const db = path === '' ? 0 : Number(path);
  if (db > 15) throw new QueueUrlError(raw, `database ${db} is not from 0 to 15`);
  if (url.search !== '' || url.hash !== '')
    throw new QueueUrlError(raw, 'query strings and fragments are not supported');
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const auth = username || password ? `${username ?? ''}${password ? ':***' : ''}@` : '';
  return {
    host,
    port,
    db,
    tls: url.protocol === 'rediss:',
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    display: `${url.protocol}//${auth}${url.host}/${db}`,
  };
}

/** ioredis options for a target. BullMQ needs `maxRetriesPerRequest: null` on its connections. */
export function redisOptions(target: QueueTarget) {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    connectTimeout: 2000,
    // reconnect quickly and forever; the engine decides when "down" has lasted too long
    retryStrategy: (times: number) => Math.min(50 * times, 500),
  } as {
    host: string;
    port: number;
    db: number;
    username?: string;
    password?: string;
    tls?: object;
    maxRetriesPerRequest: null;
    connectTimeout: number;
    retryStrategy: (times: number) => number;
  };
}

/** Shortest accepted signing key, in bytes (HMAC-SHA256 wants at least 32). */
export const MIN_KEY_BYTES = 32;

/**
 * The shared HMAC key every coordinator and worker of a queue must hold: `CODEX_QUEUE_KEY`, or
 * the contents of the file named by `CODEX_QUEUE_KEY_FILE` (or `keyFile`). Throws
 * {@link QueueKeyError} when missing or shorter than 32 bytes.
 */
export function loadQueueKey(
  options: { env?: Readonly<Record<string, string | undefined>>; keyFile?: string } = {},
): Buffer {
  const env = options.env ?? process.env;
  const file = options.keyFile ?? env.CODEX_QUEUE_KEY_FILE;
  let key: string | undefined;
  let from: string;
  if (file !== undefined && file !== '') {
    from = `key file ${file}`;
    try {
      key = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new QueueKeyError(
        `${from}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
  } else {
    from = 'CODEX_QUEUE_KEY';
    key = env.CODEX_QUEUE_KEY;
    if (key === undefined || key === '')
      throw new QueueKeyError(
        'no job-signing key: set CODEX_QUEUE_KEY (at least 32 bytes, the same on the coordinator and every worker) or CODEX_QUEUE_KEY_FILE',
      );
  }
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length < MIN_KEY_BYTES)
    throw new QueueKeyError(
      `${from}: the key is ${bytes.length} bytes; at least ${MIN_KEY_BYTES} are required`,
    );
  return bytes;
}
