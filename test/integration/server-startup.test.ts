import { type ChildProcess, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
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

/** Every directory and regular file under `dir` (itself included) with its permission bits. */
function modes(dir: string): { file: string; dir: boolean; mode: number }[] {
  const stat = lstatSync(dir);
  const here = { file: dir, dir: stat.isDirectory(), mode: stat.mode & 0o777 };
  if (!stat.isDirectory()) return stat.isFile() ? [here] : [];
  return [here, ...readdirSync(dir).flatMap((entry) => modes(path.join(dir, entry)))];
}

describe('the state directory', () => {
  let root: string;
  let stateDir: string;
  let sleeper: ChildProcess | undefined;
  const start = (reset = false) =>
    startKeyturn({
      env: {},
      port: 0,
      config: testConfig(),
      logger: silentLogger,
      sweepEveryMs: 0,
      stateDir,
      reset,
    });
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'keyturn-startup-'));
    stateDir = path.join(root, '.keyturn');
  });
  afterEach(async () => {
    const child = sleeper;
    sleeper = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('a pid file left by a crash, naming a live unrelated process, blocks neither a start nor a --reset', async () => {
    sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(path.join(stateDir, 'keyturn.pid'), String(sleeper.pid));
    const reset = await start(true);
    expect((await fetch(`${reset.url}/healthz`)).status).toBe(200);
    await reset.close();

    writeFileSync(path.join(stateDir, 'keyturn.pid'), String(sleeper.pid));
    const again = await start();
    expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
    await again.close();
  });

  it('a second Keyturn on the same directory is refused while the first runs, with its pid', async () => {
    const first = await start();
    await expect(start()).rejects.toThrow(`in use by another Keyturn (pid ${process.pid})`);
    await expect(start(true)).rejects.toThrow('in use by another Keyturn');
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    await first.close();
    const next = await start();
    await next.close();
  });

  it('after start-up the directory and everything in it are private: 0700 directories, 0600 files', async () => {
    const k = await start();
    try {
      const found = modes(stateDir);
      // dynalite's LevelDB files are there, not only the directory.
      expect(found.filter((f) => !f.dir).length).toBeGreaterThan(1);
      for (const f of found)
        expect({ file: f.file, mode: f.mode.toString(8) }).toEqual({
          file: f.file,
          mode: f.dir ? '700' : '600',
        });
    } finally {
      await k.close();
    }
  });
});

describe('sandbox mode and real AWS settings', () => {
  it.each([
    ['KEYTURN_TABLE', 'keyturn-prod'],
    ['AWS_ENDPOINT_URL', 'http://127.0.0.1:4150'],
    ['AWS_ENDPOINT_URL_DYNAMODB', 'http://127.0.0.1:4151'],
  ])('refuses to start when %s is set, saying why and what to do', async (name, value) => {
    const port = await freePort();
    const starting = startKeyturn({
      env: { [name]: value },
      port,
      config: testConfig(),
      logger: silentLogger,
      sweepEveryMs: 0,
    });
    await expect(starting).rejects.toThrow(
      new RegExp(`sandbox mode .*\\n  - ${name} is set \\(${value}\\).*unset ${name}`, 's'),
    );
    // Nothing was started: the port is free again.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe('the address it listens on', () => {
  it('refuses a HOST other machines can reach unless KEYTURN_ALLOW_REMOTE=1, binding nothing', async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: a start that ignored the rule would fail differently.
    await expect(
      startKeyturn({
        env: { HOST: '192.0.2.1' },
        port: 0,
        config: testConfig(),
        logger: silentLogger,
        sweepEveryMs: 0,
      }),
    ).rejects.toThrow(/HOST is 192\.0\.2\.1.*KEYTURN_ALLOW_REMOTE=1/);
  });

  it.each(['localhost', '127.0.0.1'])('serves on HOST=%s and reaches itself there', async (host) => {
    const k = await startKeyturn({
      env: { HOST: host },
      port: 0,
      config: testConfig(),
      logger: silentLogger,
      sweepEveryMs: 0,
    });
    try {
      expect((await fetch(`${k.url}/healthz`)).status).toBe(200);
    } finally {
      await k.close();
    }
  });
});
