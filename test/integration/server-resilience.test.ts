import { connect } from 'node:net';
import { type RunningKeyturn, startKeyturn } from '../../src/main/server';
import { silentLogger, testConfig } from '../support/fakes';

/** Every method Node's HTTP parser accepts that a client is likely to send, besides POST. */
const METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'MKCOL'];

/**
 * Request lines a browser or curl would never send: written on a raw socket, since fetch and
 * node:http refuse to. Each either gets an answer or a closed connection; neither may end the process.
 */
const MALFORMED = [
  'GET //[ HTTP/1.1',
  'GET //[/slack/events HTTP/1.1',
  'POST //[ HTTP/1.1',
  'GET http://[ HTTP/1.1',
  'GET /sandbox/api/state?user=%E0%A4%A HTTP/1.1',
  'GET /%ZZ HTTP/1.1',
  'GET * HTTP/1.1',
  '\u0000\u0001\u0002 garbage',
  'HELLO',
  'GET /healthz HTTP/9.9',
];

function raw(url: string, requestLine: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.setTimeout(2_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.write(`${requestLine}\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
  });
}

async function healthy(k: RunningKeyturn): Promise<number> {
  return (await fetch(`${k.url}/healthz`)).status;
}

const modes: [string, Record<string, string>][] = [
  ['sandbox', {}],
  [
    'local (Slack token)',
    {
      SLACK_BOT_TOKEN: 'xoxb-resilience',
      SLACK_SIGNING_SECRET: 'resilience-secret',
      SLACK_BOT_ID: 'BRESILIENCE',
      SLACK_BOT_USER_ID: 'URESILIENCE',
      // Nothing listens here; these tests never get as far as calling Slack.
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
    },
  ],
];

describe.each(modes)('in %s mode, no request can end the process', (mode, env) => {
  let k: RunningKeyturn;
  beforeAll(async () => {
    const config = testConfig();
    k = await startKeyturn({
      env,
      port: 0,
      config: {
        ...config,
        slack: { requestsChannel: 'C0REQUESTS', auditChannel: 'C0AUDITLOG', auditEvents: 'all' },
      },
      logger: silentLogger,
      sweepEveryMs: 0,
    });
    expect(k.mode).toBe(mode.startsWith('local') ? 'local' : 'sandbox');
  });
  afterAll(async () => {
    await k.close();
  });

  it.each(METHODS)(
    '%s /slack/events answers 405 with Allow: POST, and /healthz still answers',
    async (method) => {
      const answer = await raw(k.url, `${method} /slack/events HTTP/1.1`);
      expect(answer).toMatch(/^HTTP\/1\.1 405 /);
      expect(answer).toMatch(/\r\nallow: POST\r\n/i);
      expect(await healthy(k)).toBe(200);
    },
  );

  it('GET /slack/events through fetch, with a query string, answers 405 too', async () => {
    const res = await fetch(`${k.url}/slack/events?x=1`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await healthy(k)).toBe(200);
  });

  it.each(MALFORMED)('a malformed request line %j leaves /healthz answering 200', async (line) => {
    const answer = await raw(k.url, line);
    if (answer) expect(answer).toMatch(/^HTTP\/1\.1 [45]\d\d /);
    expect(await healthy(k)).toBe(200);
  });
});
