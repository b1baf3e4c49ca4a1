import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { PostedMessage } from '../../src/adapters/sandbox/fake-slack-api';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
} from '../../src/adapters/slack/action-ids';
import { loadConfig } from '../../src/config/load';
import { type RunningKeyturn, type StartOptions, startKeyturn } from '../../src/main/server';
import { silentLogger } from '../support/fakes';

const REPO = path.resolve(__dirname, '../..');
const config = loadConfig({
  env: { KEYTURN_CONFIG: path.join(REPO, 'keyturn.example.yml') },
  cwd: REPO,
  log: () => undefined,
});
// keyturn.example.yml maps alice to her access role (src/domain/person.ts).
const ALICE = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' } as const;
const RASPI_1 = 'mi-0a1b2c3d4e5f60001';
// keyturn.example.yml's member account and its factory line, in another region.
const FACTORY = '444455556666';
const FACTORY_PI_1 = 'mi-0f1e2d3c4b5a60001';

interface PageState {
  now: string;
  offsetMs: number;
  me: string;
  dm: string;
  messages: PostedMessage[];
  modal: { id: string; view: Record<string, unknown> } | null;
  nodes: {
    id: string;
    decision: string;
    targets: string[];
    account: string;
    region: string;
    where: string;
  }[];
  sessions: { id: string; target: string; owner: string; where: string }[];
  targets: { name: string; where: string }[];
  commands: string[];
}

/** The token the page is served with, read from the page as page/api.js reads it. */
async function pageToken(k: RunningKeyturn): Promise<string> {
  const html = await (await fetch(`${k.url}/`)).text();
  const token = /<meta name="keyturn-page-token" content="([^"]+)"/.exec(html)?.[1] ?? '';
  expect(token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
  return token;
}

/** The sandbox page's JSON API over real HTTP, as page/api.js uses it. */
function client(k: RunningKeyturn) {
  let token: Promise<string> | undefined;
  const headers = async () => {
    token ??= pageToken(k);
    return { 'x-keyturn-page-token': await token };
  };
  const call = async (route: string, body: unknown) => {
    const res = await fetch(`${k.url}/sandbox/api/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await headers()) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const state = async (user: string) =>
    (await (
      await fetch(`${k.url}/sandbox/api/state?user=${user}`, { headers: await headers() })
    ).json()) as PageState;
  const command = (user: string, text: string, channel = 'C0WORK') =>
    call('command', { user, channel, text });
  const card = async () => {
    // Top-level messages only: a grant's thread (session lines, summaries) follows its card.
    const cards = (await state('U0CAROL')).messages.filter((m) => m.channel === 'C0APPROVALS' && !m.threadTs);
    return cards.at(-1) as PostedMessage;
  };
  const click = async (user: string, message: PostedMessage, actionId: string) =>
    call('action', { user, channel: message.channel, ts: message.ts, actionId });
  return { call, state, command, card, click };
}

const text = (m: PostedMessage | undefined) => (m ? `${m.text} ${JSON.stringify(m.blocks)}` : '');

async function start(extra: Partial<StartOptions> = {}) {
  return startKeyturn({ env: {}, port: 0, config, logger: silentLogger, sweepEveryMs: 0, ...extra });
}

describe('the sandbox page and its API', () => {
  let k: RunningKeyturn;
  let api: ReturnType<typeof client>;
  beforeEach(async () => {
    k = await start();
    api = client(k);
  });
  afterEach(async () => {
    await k.close();
  });

  it('serves the page and its assets from this server only, under a content security policy', async () => {
    const page = await fetch(`${k.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['/sandbox/page/page.js', '/sandbox/page/page.css']) {
      const res = await fetch(`${k.url}${asset}`);
      expect(res.status).toBe(200);
      expect(await res.text()).not.toMatch(/(src|href|url)\(?\s*=?\s*["']?https?:/);
    }
    // The bot's own endpoints are untouched.
    expect((await fetch(`${k.url}/healthz`)).status).toBe(200);
  });

  it('serves every module the page imports as JavaScript and every stylesheet it links as CSS, from this server', async () => {
    // Native ES modules: a browser refuses a module served without a JavaScript MIME type.
    const html = await (await fetch(`${k.url}/`)).text();
    expect(html).toContain('<script type="module" src="/sandbox/page/page.js"></script>');
    const seen = new Set<string>();
    const queue = ['/sandbox/page/page.js'];
    while (queue.length > 0) {
      const asset = queue.shift() as string;
      if (seen.has(asset)) continue;
      seen.add(asset);
      const res = await fetch(`${k.url}${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      const text = await res.text();
      for (const [, spec] of text.matchAll(/^import [^;]* from '([^']+)';$/gm)) {
        expect(spec).toMatch(/^\.\/[a-z-]+\.js$/);
        queue.push(`/sandbox/page/${(spec as string).slice(2)}`);
      }
    }
    expect(seen.size).toBeGreaterThan(5);
    const sheets = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)" \/>/g)].map(
      (m) => m[1] as string,
    );
    expect(sheets[0]).toBe('/sandbox/page/page.css');
    for (const sheet of sheets) {
      const res = await fetch(`${k.url}${sheet}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    }
    // A name outside page/ is not served, however it is spelled.
    for (const other of [
      '/sandbox/page/../sandbox-app.ts',
      '/sandbox/page/%2e%2e/sandbox-app.ts',
      '/sandbox/page/index.html',
    ]) {
      expect((await fetch(`${k.url}${other}`)).status).not.toBe(200);
    }
  });

  it('answers only under a loopback name and only to JSON, so another site cannot act as a sandbox user', async () => {
    // fetch will not send a Host header of our choosing; node:http will, as a DNS-rebinding page's browser does.
    const evil = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${k.url}/sandbox/api/state?user=U0ALICE`,
        { headers: { host: 'evil.example:3000' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(evil).toBe(403);
    const token = { 'x-keyturn-page-token': await pageToken(k) };
    const form = await fetch(`${k.url}/sandbox/api/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...token },
      body: 'x=1',
    });
    expect(form.status).toBe(415);
    expect((await fetch(`${k.url}/sandbox/api/state?user=U0NOBODY`, { headers: token })).status).toBe(400);
  });

  it('offers the slash commands of slack-app-manifest.yml and answers others as Slack does', async () => {
    expect((await api.state('U0ALICE')).commands).toEqual(expect.arrayContaining(['/access', '/run']));
    const res = await api.command('U0ALICE', '/acess prod-raspi');
    expect(res.body).toMatchObject({ ok: false, error: 'invalid_command' });
    const last = (await api.state('U0ALICE')).messages.at(-1);
    expect(last).toMatchObject({ author: 'USLACKBOT', visibleTo: 'U0ALICE' });
    expect(last?.text).toContain('`/acess` is not a valid command');
  });

  it('a typed /access reaches the bot as a signed slash command; its reply is shown to the typist only', async () => {
    const res = await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    expect(res.body).toMatchObject({ ok: true });
    const alice = await api.state('U0ALICE');
    const reply = alice.messages.find((m) => m.visibleTo === 'U0ALICE');
    expect(reply?.text).toMatch(/Request `[a-z0-9]+` sent to <#C0APPROVALS>/);
    expect(reply?.channel).toBe('C0WORK');
    // Stamped with the sandbox clock, so the page shows when it was posted.
    expect(Date.parse(reply?.postedAt ?? '')).toBeLessThanOrEqual(Date.parse(alice.now));
    const bob = await api.state('U0BOB');
    expect(bob.messages.some((m) => m.visibleTo)).toBe(false);
    expect(text(await api.card())).toContain('Access request');
  });

  it('carol denies through the modal: a reason too long stays in the modal, a good one updates the card', async () => {
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    const card = await api.card();
    expect((await api.click('U0CAROL', card, ACTION_DENY)).body).toMatchObject({ ok: true });
    const carol = await api.state('U0CAROL');
    expect(carol.modal?.view).toMatchObject({
      callback_id: expect.any(String),
      title: { text: 'Deny access request' },
    });
    // The modal is carol's: the person who clicked, through the trigger_id of her click.
    expect((await api.state('U0ALICE')).modal).toBeNull();

    const viewId = carol.modal?.id;
    const tooLong = await api.call('view/submit', {
      user: 'U0CAROL',
      viewId,
      values: { [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: 'x'.repeat(501) } },
    });
    expect(tooLong.body).toMatchObject({
      ok: false,
      errors: { [BLOCK_DENY_REASON]: expect.stringContaining('500') },
    });
    expect((await api.state('U0CAROL')).modal?.id).toBe(viewId);

    const ok = await api.call('view/submit', {
      user: 'U0CAROL',
      viewId,
      values: { [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: 'use the staging fleet first' } },
    });
    expect(ok.body).toMatchObject({ ok: true });
    expect((await api.state('U0CAROL')).modal).toBeNull();
    expect(text(await api.card())).toContain('use the staging fleet first');
    const dm = (await api.state('U0ALICE')).messages.filter((m) => m.channel === 'D0ALICE');
    expect(text(dm.at(-1))).toContain('was denied by <@U0CAROL>');
  });

  it('only the people who can see a message can click its buttons', async () => {
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    const ack = (await api.state('U0ALICE')).messages.find((m) => m.visibleTo === 'U0ALICE') as PostedMessage;
    expect((await api.click('U0BOB', ack, ACTION_APPROVE)).status).toBe(404);
    const card = await api.card();
    expect((await api.click('U0CAROL', card, 'keyturn.no.such.button')).status).toBe(404);
  });

  it('start session follows IAM: denied, then allowed after approval, and exit ends it without an API call', async () => {
    const before = await api.call('session/start', { user: 'U0ALICE', nodeId: RASPI_1 });
    expect(before.body).toEqual({ ok: false, reason: 'access-denied' });
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    await api.click('U0CAROL', await api.card(), ACTION_APPROVE);

    const alice = await api.state('U0ALICE');
    expect(alice.nodes.find((n) => n.id === RASPI_1)).toMatchObject({
      decision: 'allowed',
      targets: ['prod-raspi'],
    });
    const started = await api.call('session/start', { user: 'U0ALICE', nodeId: RASPI_1 });
    expect(started.body).toMatchObject({ ok: true, session: { target: RASPI_1 } });
    const [session] = (await api.state('U0ALICE')).sessions;
    expect(session?.target).toBe(RASPI_1);
    // Somebody else's session is not theirs to exit.
    expect((await api.call('session/exit', { user: 'U0BOB', sessionId: session?.id })).status).toBe(404);

    const calls = k.account?.calls.length;
    expect((await api.call('session/exit', { user: 'U0ALICE', sessionId: session?.id })).body).toEqual({
      ok: true,
    });
    expect(k.account?.calls.length).toBe(calls);
    expect((await api.state('U0ALICE')).sessions).toEqual([]);
    expect(k.account?.sessionHistory()).toHaveLength(1);
  });

  it('two accounts, two regions: a factory-pi grant is made in the member account and reaches its nodes only', async () => {
    const before = await api.state('U0ALICE');
    expect(before.nodes.find((n) => n.id === FACTORY_PI_1)).toMatchObject({
      account: FACTORY,
      region: 'eu-central-1',
      where: `factory (${FACTORY}), eu-central-1`,
      targets: ['factory-pi'],
      decision: 'denied',
    });
    expect(before.nodes.find((n) => n.id === RASPI_1)).toMatchObject({
      account: '123456789012',
      region: 'ap-northeast-1',
      where: '123456789012, ap-northeast-1',
      targets: ['prod-raspi'],
    });
    expect(before.targets.find((t) => t.name === 'factory-pi')?.where).toBe(
      `factory (${FACTORY}), eu-central-1`,
    );

    await api.command('U0ALICE', '/access factory-pi 1h recalibrate the line');
    const card = await api.card();
    await api.click('U0CAROL', card, ACTION_APPROVE);
    expect(text(await api.card())).toContain('Active');

    // The policy is in the member account's IAM; the home account has none.
    const factory = k.organisation?.access(FACTORY);
    expect(factory?.attachedPolicies(ALICE)).toHaveLength(1);
    expect(factory?.policyArns()[0]).toMatch(new RegExp(`^arn:aws:iam::${FACTORY}:policy/`));
    expect(k.account?.attachedPolicies(ALICE)).toEqual([]);
    const alice = await api.state('U0ALICE');
    const decisions = Object.fromEntries(alice.nodes.map((n) => [n.id, n.decision]));
    expect(decisions[FACTORY_PI_1]).toBe('allowed');
    expect(decisions[RASPI_1]).toBe('denied');

    const started = await api.call('session/start', { user: 'U0ALICE', nodeId: FACTORY_PI_1 });
    expect(started.body).toMatchObject({
      ok: true,
      session: { owner: `arn:aws:sts::${FACTORY}:assumed-role/keyturn-u0alice/alice` },
    });
    expect((await api.call('session/start', { user: 'U0ALICE', nodeId: RASPI_1 })).body).toEqual({
      ok: false,
      reason: 'access-denied',
    });
    const [session] = (await api.state('U0ALICE')).sessions;
    expect(session?.where).toBe(`factory (${FACTORY}), eu-central-1`);
    // The session event came from the member account and region: its node is looked up there, by name.
    expect((await k.deps.sessions.get(session?.id ?? ''))?.node).toEqual({
      id: FACTORY_PI_1,
      name: 'factory-pi-1',
    });

    // At expiry the sweeper ends the grant where it is: policy gone and session ended in the member account.
    await api.call('clock', { advanceMs: 61 * 60_000 });
    expect(text(await api.card())).toContain('Expired');
    expect(factory?.attachedPolicies(ALICE)).toEqual([]);
    expect(factory?.policyArns()).toEqual([]);
    expect(factory?.sessionHistory().map((s) => s.id)).toEqual([session?.id]);
    expect((await api.state('U0ALICE')).sessions).toEqual([]);
    // The member account's session was matched to its grant: its summary is in the grant's thread.
    const thread = (await api.state('U0CAROL')).messages.filter((m) => m.threadTs === card.ts);
    expect(thread.map(text).join('\n')).toContain('Shell of <@U0ALICE> on factory-pi-1');
  });

  it('a person the config does not map cannot start sessions', async () => {
    const res = await api.call('session/start', { user: 'U0NOBODY', nodeId: RASPI_1 });
    expect(res.status).toBe(400);
  });

  it('the clock moves only forward, and a move runs the sweeper: the grant expires and the card says so', async () => {
    expect((await api.call('clock', { advanceMs: -1 })).status).toBe(400);
    expect((await api.call('clock', { advanceMs: 8 * 24 * 3_600_000 })).status).toBe(400);
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    await api.click('U0CAROL', await api.card(), ACTION_APPROVE);
    expect(await k.account?.evaluate(ALICE, RASPI_1)).toBe('allowed');

    const moved = await api.call('clock', { advanceMs: 61 * 60_000 });
    expect(moved.body).toMatchObject({ ok: true, offsetMs: 61 * 60_000 });
    expect(text(await api.card())).toContain('Expired');
    expect(await k.account?.evaluate(ALICE, RASPI_1)).toBe('denied');
    expect(k.account?.attachedPolicies(ALICE)).toEqual([]);
    const state = await api.state('U0ALICE');
    expect(Date.parse(state.now) - Date.now()).toBeGreaterThan(60 * 60_000);
  });

  it('a long clock jump stops at each due moment: the warning, the expiry and the session end happen at their own times', async () => {
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    await api.click('U0CAROL', await api.card(), ACTION_APPROVE);
    await api.call('session/start', { user: 'U0ALICE', nodeId: RASPI_1 });
    const grant = (await k.deps.grants.listByRequester('U0ALICE'))[0];
    const expiresAt = Date.parse(grant?.expiresAt ?? '');

    await api.call('clock', { advanceMs: 3 * 3_600_000 });

    const seen = await api.state('U0ALICE');
    const dms = seen.messages.filter((m) => m.channel === seen.dm);
    const warning = dms.find((m) => /Extend/.test(JSON.stringify(m.blocks)) && !/ready/i.test(m.text));
    if (!warning) throw new Error(dms.map((m) => m.text).join('\n'));
    expect(Date.parse(warning?.postedAt ?? '') - (expiresAt - 10 * 60_000)).toBeLessThan(60_000);
    const history = k.account?.sessionHistory() ?? [];
    expect(history).toHaveLength(1);
    const ended = Date.parse(history[0]?.endedAt ?? '');
    expect(Math.abs(ended - expiresAt)).toBeLessThan(60_000);
  });

  it('a slash command typed in a thread reply box is not posted as text: Slackbot says where commands go', async () => {
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    const card = await api.card();
    const answer = await api.call('message', {
      user: 'U0CAROL',
      channel: card.channel,
      threadTs: card.ts,
      text: '/access list',
    });
    expect(answer.body).toEqual({ ok: false, error: 'command_in_thread' });
    const thread = (await api.state('U0CAROL')).messages.filter((m) => m.threadTs === card.ts);
    expect(thread).toHaveLength(1);
    expect(thread[0]).toMatchObject({ author: 'USLACKBOT', visibleTo: 'U0CAROL' });
    expect(thread[0]?.text).toContain("slash commands go in the channel's message box");
    expect((await api.state('U0ALICE')).messages.filter((m) => m.threadTs === card.ts)).toEqual([]);
  });

  it('reset forgets grants, messages, policies and the clock', async () => {
    const reply = await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    expect(reply.body.ok).toBe(true);
    const grantId = /Request `([a-z0-9]+)`/.exec(text((await api.state('U0ALICE')).messages[0]))?.[1] ?? '';
    await api.click('U0CAROL', await api.card(), ACTION_APPROVE);
    await api.call('clock', { advanceMs: 600_000 });

    expect((await api.call('reset', {})).body).toEqual({ ok: true });
    const after = await api.state('U0ALICE');
    expect(after.messages).toEqual([]);
    expect(after.offsetMs).toBe(0);
    expect(await k.deps.grants.get(grantId)).toBeUndefined();
    expect(k.account?.attachedPolicies(ALICE)).toEqual([]);
    // And it still works afterwards.
    expect((await api.command('U0ALICE', '/access prod-raspi 1h again')).body.ok).toBe(true);
  });
});

describe('sandbox state on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyturn-state-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restarted sandbox carries on where it stopped; reset starts clean', async () => {
    const stateDir = path.join(dir, '.keyturn');
    let k = await start({ stateDir });
    let api = client(k);
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    const grantId = /Request `([a-z0-9]+)`/.exec(text((await api.state('U0ALICE')).messages[0]))?.[1] ?? '';
    await api.call('clock', { advanceMs: 600_000 });
    await k.close();

    k = await start({ stateDir });
    api = client(k);
    expect((await k.deps.grants.get(grantId))?.status).toBe('pending');
    expect((await api.state('U0ALICE')).offsetMs).toBe(600_000);
    // The restored card is the one the bot updates: approve it and the policy exists in the restored account.
    await api.click('U0CAROL', await api.card(), ACTION_APPROVE);
    expect(text(await api.card())).toContain('Active');
    expect(await k.account?.evaluate(ALICE, RASPI_1)).toBe('allowed');
    // And one in the member account, whose IAM is saved with the home account's.
    await api.command('U0ALICE', '/access factory-pi 1h recalibrate the line');
    await api.click('U0CAROL', await api.card(), ACTION_APPROVE);
    expect(await k.organisation?.evaluate(ALICE, FACTORY_PI_1)).toBe('allowed');
    await k.close();

    k = await start({ stateDir });
    expect(await k.account?.evaluate(ALICE, RASPI_1)).toBe('allowed');
    expect(await k.organisation?.evaluate(ALICE, FACTORY_PI_1)).toBe('allowed');
    await k.close();

    k = await start({ stateDir, reset: true });
    api = client(k);
    expect(await k.deps.grants.get(grantId)).toBeUndefined();
    expect((await api.state('U0ALICE')).messages).toEqual([]);
    expect(await k.account?.evaluate(ALICE, RASPI_1)).toBe('denied');
    expect(await k.organisation?.evaluate(ALICE, FACTORY_PI_1)).toBe('denied');
    await k.close();
  });
});

/** A request with exactly these headers and body, streamed in chunks without a Content-Length when `chunked`. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: string,
  chunked = false,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    // The server may answer and close before the whole body is sent: that is the point.
    req.on('error', (error) => reject(error));
    if (chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

describe('the sandbox answers only its own page', () => {
  let k: RunningKeyturn;
  let api: ReturnType<typeof client>;
  let token: Record<string, string>;
  let grantId: string;
  /** Everything a refused request could have changed: Slack, the account, the clock, the grant. */
  const everything = async () =>
    JSON.stringify({
      slack: k.slack?.snapshot(),
      account: k.account?.snapshot(),
      offsetMs: (await api.state('U0ALICE')).offsetMs,
      grant: await k.deps.grants.get(grantId),
    });
  beforeAll(async () => {
    k = await start();
    api = client(k);
    token = { 'x-keyturn-page-token': await pageToken(k) };
    await api.command('U0ALICE', '/access prod-raspi 1h replace sensor on line 3');
    grantId = /Request `([a-z0-9]+)`/.exec(text((await api.state('U0ALICE')).messages[0]))?.[1] ?? '';
    expect(grantId).not.toBe('');
  });
  afterAll(async () => {
    await k.close();
  });

  const json = { 'content-type': 'application/json' };
  const approveAsCarol = async () => {
    const card = await api.card();
    return { user: 'U0CAROL', channel: card.channel, ts: card.ts, actionId: ACTION_APPROVE };
  };

  it.each([
    ['another site', { origin: 'http://evil.example' }],
    ['another port on localhost', { origin: 'http://127.0.0.1:1' }],
    ['an opaque origin (sandboxed frame, file://)', { origin: 'null' }],
    ['a cross-site fetch without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['a same-site fetch from another port', { 'sec-fetch-site': 'same-site' }],
  ])('refuses a click posted from %s with 403, and nothing changes', async (_from, extra) => {
    const before = await everything();
    const res = await rawPost(
      `${k.url}/sandbox/api/action`,
      { ...json, ...token, ...extra },
      JSON.stringify(await approveAsCarol()),
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toMatch(/refused|only on localhost/);
    expect(await everything()).toBe(before);
    expect((await k.deps.grants.get(grantId))?.status).toBe('pending');
  });

  it("accepts the page's own origin", async () => {
    const res = await fetch(`${k.url}/sandbox/api/state?user=U0ALICE`, {
      headers: { ...token, origin: k.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(200);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { 'x-keyturn-page-token': 'x'.repeat(43) }],
    ['a token of another length', { 'x-keyturn-page-token': 'short' }],
  ])('refuses an API request with %s with 403, and nothing changes', async (_what, given) => {
    const before = await everything();
    for (const [route, body] of [
      ['reset', {}],
      ['action', await approveAsCarol()],
      ['message', { user: 'U0ALICE', channel: 'C0WORK', text: 'hello' }],
    ] as const) {
      const res = await rawPost(`${k.url}/sandbox/api/${route}`, { ...json, ...given }, JSON.stringify(body));
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).error).toContain('x-keyturn-page-token');
    }
    const state = await fetch(`${k.url}/sandbox/api/state?user=U0ALICE`, { headers: given });
    expect(state.status).toBe(403);
    expect(await everything()).toBe(before);
  });

  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
  ])('refuses a body sent as %s with 415, and nothing changes', async (type) => {
    const before = await everything();
    const res = await rawPost(`${k.url}/sandbox/api/reset`, { 'content-type': type, ...token }, '{}');
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body).error).toContain('application/json');
    expect(await everything()).toBe(before);
  });

  it.each([
    ['with a Content-Length', false],
    ['chunked', true],
  ])('refuses a body over 1 MB (%s) with 413, and nothing changes', async (_how, chunked) => {
    const before = await everything();
    const body = JSON.stringify({ user: 'U0ALICE', channel: 'C0WORK', text: 'x'.repeat(1024 * 1024) });
    const res = await rawPost(`${k.url}/sandbox/api/message`, { ...json, ...token }, body, chunked);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toContain('body too large');
    expect(await everything()).toBe(before);
    // The server still answers.
    expect((await api.state('U0ALICE')).me).toBe('U0ALICE');
  });

  it("the bot's Web API refuses web pages, callers without the bot token, and other content types", async () => {
    const before = await everything();
    const url = `${k.url}/sandbox/slack/api/chat.postMessage`;
    const message = 'channel=C0APPROVALS&text=Keyturn%3A+approve+%3Chttp%3A%2F%2Fevil.example%3E';
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    const fromPage = await rawPost(url, { ...form, origin: 'http://evil.example' }, message);
    expect(fromPage.status).toBe(403);
    const withoutToken = await rawPost(url, form, message);
    expect(JSON.parse(withoutToken.body)).toEqual({ ok: false, error: 'invalid_auth' });
    const guessed = await rawPost(url, { ...form, authorization: 'Bearer xoxb-sandbox' }, message);
    expect(JSON.parse(guessed.body)).toEqual({ ok: false, error: 'invalid_auth' });
    const plain = await rawPost(url, { 'content-type': 'text/plain' }, message);
    expect(plain.status).toBe(415);
    const huge = await rawPost(url, form, `text=${'x'.repeat(2 * 1024 * 1024)}`, true);
    expect(JSON.parse(huge.body)).toEqual({ ok: false, error: 'invalid_auth' });
    expect((await fetch(url)).status).toBe(405);
    expect(await everything()).toBe(before);
  });

  it('a response_url refuses web pages too', async () => {
    const res = await rawPost(
      `${k.url}/sandbox/response/abcdef`,
      { ...json, origin: 'http://evil.example' },
      JSON.stringify({ text: 'fake' }),
    );
    expect(res.status).toBe(403);
  });

  it('the page cannot be framed by another site', async () => {
    const page = await fetch(`${k.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });
});
