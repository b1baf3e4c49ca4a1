import { Writable } from 'node:stream';
import { createJsonLogger } from '../../../src/adapters/logging/json-logger';
import { createLogger } from '../../../src/adapters/logging/pino-logger';
import type { Logger } from '../../../src/ports/logger';

// Both loggers: pino (worker, sweeper, local mode) and the slack function's JSON logger. Secrets are
// redacted by key wherever the pino paths reach; the JSON logger reaches further.

function capture(make: (write: (line: string) => void) => Logger) {
  const lines: string[] = [];
  const logger = make((line) => lines.push(line));
  return {
    logger,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    raw: () => lines.join(''),
  };
}

const LOGGERS: [string, (write: (line: string) => void, level?: string) => Logger][] = [
  [
    'pino',
    (write, level) =>
      createLogger({
        level: level ?? 'info',
        destination: new Writable({
          write(chunk, _enc, done) {
            write(String(chunk));
            done();
          },
        }),
      }),
  ],
  ['json', (write, level) => createJsonLogger({ level: level ?? 'info', write })],
];

describe.each(LOGGERS)('%s logger', (_name, make) => {
  it('writes one JSON line per entry with pino’s level, app and message', () => {
    const { logger, entries } = capture((w) => make(w));
    logger.warn({ grantId: 'g1' }, 'using cached Slack secrets');
    expect(entries()).toEqual([
      expect.objectContaining({
        level: 40,
        app: 'keyturn',
        grantId: 'g1',
        msg: 'using cached Slack secrets',
      }),
    ]);
    expect(typeof entries()[0]?.time).toBe('number');
  });

  it('drops entries below its level', () => {
    const { logger, entries } = capture((w) => make(w, 'warn'));
    logger.info({}, 'quiet');
    logger.debug({}, 'quieter');
    logger.error({}, 'loud');
    expect(entries().map((e) => e.msg)).toEqual(['loud']);
  });

  it.each([
    ['a token', { token: 'xoxb-secret-1' }],
    ['a signing secret', { signingSecret: 'secret-2' }],
    ['a nested token', { slack: { token: 'xoxb-secret-3' } }],
    ['a nested secret or password', { config: { secret: 'secret-4', password: 'secret-5' } }],
    ['an authorization header', { headers: { authorization: 'AWS4-HMAC-SHA256 Signature=secret-6' } }],
  ])('never writes %s', (_what, fields) => {
    const { logger, raw } = capture((w) => make(w));
    logger.error(fields, 'failed');
    expect(raw()).toContain('[redacted]');
    expect(raw()).not.toMatch(/secret-\d/);
  });
});

describe('json logger', () => {
  it('redacts at any depth and writes an error as type, message and stack', () => {
    const { logger, entries, raw } = capture((w) => createJsonLogger({ write: w }));
    const err = new TypeError('boom');
    logger.error({ err, deep: { a: [{ b: { token: 'xoxb-deep' } }] } }, 'failed');
    expect(raw()).not.toContain('xoxb-deep');
    expect(entries()[0]?.err).toEqual({ type: 'TypeError', message: 'boom', stack: err.stack });
  });

  it('refuses a level it does not know', () => {
    expect(() => createJsonLogger({ level: 'verbose' })).toThrow("unknown log level 'verbose'");
  });
});
