import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The checks every sandbox route makes before it does anything. The sandbox acts as any person in
 * its workspace and posts as the bot, so a page on another origin must not reach it: a form or
 * fetch from elsewhere could post a fake "Keyturn" message with a link, or a button that approves
 * a pending grant when clicked, or send a body of hundreds of megabytes.
 */

/** The largest body any sandbox route reads: a view submission or a Block Kit message is a few kB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A refusal: the HTTP status and a sentence that says what was wrong. */
export class RequestRefused extends Error {
  override readonly name = 'RequestRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Host names that only this machine can reach; another name for 127.0.0.1 may be a DNS-rebinding page. */
export function isLoopbackHost(host: string | undefined): boolean {
  const name = (host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '127.0.0.1' || name === '::1';
}

/**
 * Why this request does not come from this server's own origin, or undefined when it may. Browsers
 * send `Origin` on every POST (and on cross-origin GETs) and `Sec-Fetch-Site` on every request;
 * tools (curl, the bot's Web API client) send neither and are held by the token instead.
 */
export function crossOriginProblem(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!isLoopbackHost(host)) return 'the sandbox answers only on localhost';
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`)
    return `requests from ${origin} are refused: the sandbox answers only its own page`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return 'requests from other sites are refused: the sandbox answers only its own page';
  return undefined;
}

/** Compares a secret in constant time, so its length and prefix cannot be probed. */
export function tokenMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Reads the body, refusing (413) one larger than `limit` before reading it when Content-Length says
 * so, or as soon as a chunked body passes it. The rest of an oversize body is not read: the caller
 * answers with `Connection: close`.
 */
export function readBoundedBody(req: IncomingMessage, limit: number = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tooLarge(limit: number): RequestRefused {
  return new RequestRefused(413, `body too large: the sandbox reads at most ${limit} bytes`);
}
