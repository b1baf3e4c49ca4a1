import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startKeyturn } from '../../src/main/server';
import { silentLogger, testConfig } from '../support/fakes';

/** A Slack Web API that takes its time over auth.test, so startup is caught half-way. */
async function slowSlack(delayMs: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const answer = req.url?.includes('auth.test')
      ? { ok: true, user_id: 'UBOT', bot_id: 'BBOT' }
      : { ok: true };
    setTimeout(
      () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      },
      req.url?.includes('auth.test') ? delayMs : 0,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`, server };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('startup', () => {
  it('answers /healthz with 503 until everything is wired, then 200', async () => {
    const slack = await slowSlack(800);
    const port = await freePort();
    const starting = startKeyturn({
      env: { SLACK_SIGNING_SECRET: 'startup-secret', SLACK_API_URL: slack.url },
      port,
      config: testConfig(),
      logger: silentLogger,
      sweepEveryMs: 0,
    });
    let early: Response | undefined;
    for (let i = 0; i < 200 && !early; i++) {
      early = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (!early) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(early?.status).toBe(503);
    expect(await early?.json()).toMatchObject({ ok: false, starting: true });

    const keyturn = await starting;
    const ready = await fetch(`${keyturn.url}/healthz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ok: true, mode: 'sandbox' });
    await keyturn.close();
    await new Promise((resolve) => slack.server.close(resolve));
  });
});
