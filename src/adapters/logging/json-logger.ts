import { hostname } from 'node:os';
import type { Logger } from '../../ports/logger';

/**
 * The slack function's logger: pino's JSON lines (`level` as pino's numbers, `time`, `pid`,
 * `hostname`, `app`, the fields, `msg`) written straight to stdout, without pino and its streams, which
 * its cold start would load for four methods (BENCHMARKS.md, item 3). Secrets are redacted by key as a
 * second line of defence, more widely than pino-logger.ts does: a `token`, `signingSecret`, `secret`,
 * `password` or `authorization` key at any depth (pino's paths reach one level down). Errors are
 * written as pino writes `err`: type, message, stack.
 */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
const SECRET_KEYS = new Set(['token', 'signingSecret', 'secret', 'password', 'authorization']);
export const REDACTED = '[redacted]';

export function createJsonLogger(
  opts: { level?: string; write?: (line: string) => void; now?: () => number } = {},
): Logger {
  const name = (opts.level ?? 'info') as keyof typeof LEVELS;
  const threshold = LEVELS[name];
  if (threshold === undefined) throw new Error(`unknown log level '${opts.level}'`);
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const now = opts.now ?? Date.now;
  const base = { pid: process.pid, hostname: hostname(), app: 'keyturn' };
  const at =
    (level: number) =>
    (fields: Record<string, unknown>, msg: string): void => {
      if (level < threshold) return;
      const line = { level, time: now(), ...base, ...(clean(fields, new WeakSet()) as object), msg };
      write(`${JSON.stringify(line)}\n`);
    };
  return { debug: at(LEVELS.debug), info: at(LEVELS.info), warn: at(LEVELS.warn), error: at(LEVELS.error) };
}

function clean(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  let out: unknown;
  if (value instanceof Error)
    out = clean({ type: value.name, message: value.message, stack: value.stack }, seen);
  else if (Array.isArray(value)) out = value.map((v) => clean(v, seen));
  else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') out = value;
  else {
    const copy: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value))
      copy[key] = SECRET_KEYS.has(key) ? REDACTED : clean(v, seen);
    out = copy;
  }
  // Only an object inside itself is circular; one reached twice side by side is written twice.
  seen.delete(value);
  return out;
}
