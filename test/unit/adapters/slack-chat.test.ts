import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import { auditMessage } from '../../../src/adapters/slack/audit-alert-blocks';
import { extensionCard } from '../../../src/adapters/slack/extension-card-blocks';
import { notice } from '../../../src/adapters/slack/notice-blocks';
import { requestCard } from '../../../src/adapters/slack/request-card-blocks';
import { ChatError } from '../../../src/adapters/slack/chat-calls';
import { createSlackChat } from '../../../src/adapters/slack/slack-chat';
import type { AuditLine } from '../../../src/domain/audit-line';
import type { Grant } from '../../../src/domain/grant';
import type { Target } from '../../../src/domain/target';
import type { ExtensionCardView, RequestCardView } from '../../../src/ports/chat';
import type { Clock } from '../../../src/ports/clock';
import { testConfig } from '../../support/fakes';

/** One account, one region: the messages name no place. */
const SERVED = testConfig().aws;

const TOKEN = 'xoxb-1234-5678-keyturntesttoken';

interface Recorded {
  method: string;
  params: Record<string, string>;
  authorization: string | undefined;
}

/** A stand-in for https://slack.com/api/: records each call and answers like Slack does. */
const recorded: Recorded[] = [];
const overrides = new Map<string, { status?: number; body: unknown }>();

function defaultAnswer(method: string, params: Record<string, string>): unknown {
  switch (method) {
    case 'chat.postMessage':
      return { ok: true, channel: params.channel, ts: '1793711100.000100' };
    case 'chat.update':
      return { ok: true, channel: params.channel, ts: params.ts };
    case 'conversations.open':
      return { ok: true, channel: { id: `D${params.users}` } };
    case 'usergroups.users.list':
      return { ok: true, users: ['U0CAROL', 'U0DAVE'] };
    case 'chat.getPermalink':
      return {
        ok: true,
        channel: params.channel,
        permalink: `https://acme.slack.com/archives/${params.channel}/p${(params.message_ts ?? '').replace('.', '')}`,
      };
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

let server: Server;
let apiUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const method = (req.url ?? '').replace(/^\/api\//, '');
      const params = Object.fromEntries(new URLSearchParams(body));
      recorded.push({ method, params, authorization: req.headers.authorization });
      const override = overrides.get(method);
      res.writeHead(override?.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(override?.body ?? defaultAnswer(method, params)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  recorded.length = 0;
  overrides.clear();
});

function client(url = apiUrl): WebClient {
  // No retries: a test that provokes an error wants one request and an answer now.
  return new WebClient(TOKEN, { slackApiUrl: url, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
}

function fakeClock(start = '2026-11-03T13:00:00Z'): Clock & { advance(ms: number): void } {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    sleep: async (ms) => {
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

const target: Target = {
  name: 'prod-raspi',
  description: 'Production Raspberry Pi fleet',
  account: '123456789012',
  region: 'ap-northeast-1',
  tags: { Fleet: 'prod-raspi' },
  defaultDurationMinutes: 60,
  maxDurationMinutes: 240,
  approvers: ['U0CAROL', 'S0SREGROUP'],
  approvals: 1,
  selfApproval: false,
  documents: ['shell'],
  warnBeforeMinutes: 10,
  approvalTimeoutMinutes: 30,
};

const grant: Grant = {
  id: 'a1b2',
  requester: 'U0ALICE',
  principal: { kind: 'user', name: 'alice' },
  target: 'prod-raspi',
  durationMinutes: 60,
  reason: 'replace sensor on line 3',
  status: 'pending',
  version: 1,
  requestedAt: '2026-11-03T13:00:00Z',
  approvals: [],
  history: [{ at: '2026-11-03T13:00:00Z', from: null, to: 'pending', by: 'U0ALICE' }],
};

const view: RequestCardView = {
  grant,
  target,
  nodes: [{ id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' }],
};

const activeGrant: Grant = {
  ...grant,
  status: 'active',
  version: 4,
  approvals: [{ by: 'U0CAROL', at: '2026-11-03T13:05:00Z' }],
  startsAt: '2026-11-03T13:05:00Z',
  expiresAt: '2026-11-03T14:05:00Z',
  policyArn: 'arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2',
};

const extensionView: ExtensionCardView = {
  grant: activeGrant,
  target,
  extension: {
    minutes: 30,
    requestedBy: 'U0ALICE',
    requestedAt: '2026-11-03T13:50:00Z',
    approvals: [],
    state: 'pending',
  },
  newExpiresAt: '2026-11-03T14:35:00Z',
  totalMinutes: 90,
};

function methods(): string[] {
  return recorded.map((r) => r.method);
}

describe('createSlackChat', () => {
  it('posts a request card with chat.postMessage and returns where it landed', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const ref = await chat.postRequestCard('C0APPROVALS', view);

    expect(ref).toEqual({ channel: 'C0APPROVALS', ts: '1793711100.000100' });
    expect(methods()).toEqual(['chat.postMessage']);
    const sent = recorded[0]!;
    expect(sent.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.params.channel).toBe('C0APPROVALS');
    const expected = requestCard(view);
    expect(sent.params.text).toBe(expected.text);
    expect(JSON.parse(sent.params.blocks ?? 'null')).toEqual(JSON.parse(JSON.stringify(expected.blocks)));
  });

  it('updates a card in place with chat.update on the same channel and ts', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const approved: RequestCardView = {
      ...view,
      grant: { ...grant, status: 'approved', decidedBy: 'U0CAROL' },
    };
    await chat.updateRequestCard({ channel: 'C0APPROVALS', ts: '1793711100.000100' }, approved);

    expect(methods()).toEqual(['chat.update']);
    const sent = recorded[0]!.params;
    expect(sent.channel).toBe('C0APPROVALS');
    expect(sent.ts).toBe('1793711100.000100');
    expect(sent.text).toBe(requestCard(approved).text);
    expect(sent.blocks).toContain('*Approved* by <@U0CAROL>');
    expect(sent.blocks).not.toContain('keyturn.grant.approve');
  });

  it('posts an extension card with chat.postMessage and updates it in place with chat.update', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const ref = await chat.postExtensionCard('C0APPROVALS', extensionView);
    const denied: ExtensionCardView = { ...extensionView, outcome: { kind: 'denied', by: 'U0CAROL' } };
    await chat.updateExtensionCard(ref, denied);

    expect(ref).toEqual({ channel: 'C0APPROVALS', ts: '1793711100.000100' });
    expect(methods()).toEqual(['chat.postMessage', 'chat.update']);
    const [posted, updated] = [recorded[0]!.params, recorded[1]!.params];
    expect(posted.channel).toBe('C0APPROVALS');
    expect(posted.text).toBe(extensionCard(extensionView).text);
    expect(JSON.parse(posted.blocks ?? 'null')).toEqual(
      JSON.parse(JSON.stringify(extensionCard(extensionView).blocks)),
    );
    expect(posted.blocks).toContain('keyturn.extension.approve');
    expect(updated).toMatchObject({ channel: 'C0APPROVALS', ts: '1793711100.000100' });
    expect(updated.text).toBe(extensionCard(denied).text);
    expect(updated.blocks).toContain('*Denied* by <@U0CAROL>: no reason given');
    expect(updated.blocks).not.toContain('keyturn.extension.approve');
  });

  it('posts audit messages to the channel it is given', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const event = { kind: 'policy-missing', grant: activeGrant } as const;
    await chat.postAudit('C0AUDIT', event);

    expect(methods()).toEqual(['chat.postMessage']);
    const sent = recorded[0]!.params;
    expect(sent.channel).toBe('C0AUDIT');
    expect(sent.text).toBe(auditMessage(event).text);
    expect(JSON.parse(sent.blocks ?? 'null')).toEqual(JSON.parse(JSON.stringify(auditMessage(event).blocks)));
  });

  it('translates postAudit and updateExtensionCard errors', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    overrides.set('chat.postMessage', { body: { ok: false, error: 'not_in_channel' } });
    overrides.set('chat.update', { body: { ok: false, error: 'message_not_found' } });
    await expect(
      chat.postAudit('C0AUDIT', { kind: 'policy-missing', grant: activeGrant }),
    ).rejects.toMatchObject({ name: 'ChatError', code: 'not_in_channel', method: 'chat.postMessage' });
    await expect(
      chat.updateExtensionCard({ channel: 'C0APPROVALS', ts: '1.2' }, extensionView),
    ).rejects.toMatchObject({ name: 'ChatError', code: 'message_not_found', method: 'chat.update' });
  });

  it('tells the warning DM how long is left by the injected clock', async () => {
    const chat = createSlackChat({
      client: client(),
      served: SERVED,
      clock: fakeClock('2026-11-03T13:55:00Z'),
    });
    const warning = { kind: 'warning', grant: activeGrant, target } as const;
    await chat.notify('U0ALICE', warning);

    const sent = recorded[1]!.params;
    expect(sent.channel).toBe('DU0ALICE');
    expect(sent.text).toBe(notice(warning, new Date('2026-11-03T13:55:00Z')).text);
    expect(sent.text).toContain('(in about 10 minutes)');
    expect(sent.blocks).toContain('keyturn.grant.extend');
    expect(sent.blocks).toContain('keyturn.grant.release');
  });

  it('opens a DM once per user and posts notices there', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const approvedNotice = { kind: 'approved', grant: { ...grant, decidedBy: 'U0CAROL' }, target } as const;
    await chat.notify('U0ALICE', approvedNotice);
    await chat.notify('U0ALICE', { kind: 'denied', grant, target });

    expect(methods()).toEqual(['conversations.open', 'chat.postMessage', 'chat.postMessage']);
    expect(recorded[0]!.params.users).toBe('U0ALICE');
    expect(recorded[1]!.params.channel).toBe('DU0ALICE');
    expect(recorded[1]!.params.text).toBe(notice(approvedNotice).text);
    expect(recorded[2]!.params.channel).toBe('DU0ALICE');
  });

  it('forgets a DM channel that Slack rejected, so the next notice opens a fresh one', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    overrides.set('chat.postMessage', { body: { ok: false, error: 'channel_not_found' } });
    await expect(chat.notify('U0ALICE', { kind: 'denied', grant, target })).rejects.toMatchObject({
      code: 'channel_not_found',
    });
    overrides.clear();
    await chat.notify('U0ALICE', { kind: 'denied', grant, target });

    expect(methods()).toEqual([
      'conversations.open',
      'chat.postMessage',
      'conversations.open',
      'chat.postMessage',
    ]);
  });

  it('caches user-group members for 5 minutes by the injected clock', async () => {
    const clock = fakeClock();
    const chat = createSlackChat({ client: client(), served: SERVED, clock });

    expect(await chat.userGroupMembers('S0SREGROUP')).toEqual(['U0CAROL', 'U0DAVE']);
    expect(await chat.userGroupMembers('S0SREGROUP')).toEqual(['U0CAROL', 'U0DAVE']);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      method: 'usergroups.users.list',
      params: { usergroup: 'S0SREGROUP' },
    });

    clock.advance(5 * 60_000 - 1);
    await chat.userGroupMembers('S0SREGROUP');
    expect(recorded).toHaveLength(1);

    clock.advance(1);
    await chat.userGroupMembers('S0SREGROUP');
    expect(recorded).toHaveLength(2);
  });

  it('caches each group separately, honours groupCacheMs, and shares one request between concurrent lookups', async () => {
    const clock = fakeClock();
    const chat = createSlackChat({ client: client(), served: SERVED, clock, groupCacheMs: 1_000 });

    await Promise.all([
      chat.userGroupMembers('S0SRE'),
      chat.userGroupMembers('S0SRE'),
      chat.userGroupMembers('S0DBA'),
    ]);
    expect(recorded.map((r) => r.params.usergroup)).toEqual(['S0SRE', 'S0DBA']);

    clock.advance(1_000);
    await chat.userGroupMembers('S0SRE');
    expect(recorded.map((r) => r.params.usergroup)).toEqual(['S0SRE', 'S0DBA', 'S0SRE']);
  });

  it('does not cache a failed group lookup', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    overrides.set('usergroups.users.list', { body: { ok: false, error: 'no_such_subteam' } });
    await expect(chat.userGroupMembers('S0GONE')).rejects.toMatchObject({ code: 'no_such_subteam' });
    overrides.clear();

    expect(await chat.userGroupMembers('S0GONE')).toEqual(['U0CAROL', 'U0DAVE']);
    expect(recorded).toHaveLength(2);
  });
});

describe('ChatError', () => {
  async function failure(run: Promise<unknown>): Promise<ChatError> {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChatError);
    return error as ChatError;
  }

  it("carries Slack's error string as its code, with the method and cause, never the token", async () => {
    overrides.set('chat.postMessage', { body: { ok: false, error: 'channel_not_found' } });
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const error = await failure(chat.postRequestCard('C0GONE', view));

    expect(error.code).toBe('channel_not_found');
    expect(error.name).toBe('ChatError');
    expect(error.method).toBe('chat.postMessage');
    expect(error.message).toBe('Slack chat.postMessage failed: channel_not_found');
    expect(error.cause).toBeInstanceOf(Error);
    expect(recorded[0]!.authorization).toBe(`Bearer ${TOKEN}`);
    expect(`${error.message} ${error.stack}`).not.toContain(TOKEN);
  });

  it('translates chat.update errors too', async () => {
    overrides.set('chat.update', { body: { ok: false, error: 'message_not_found' } });
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const error = await failure(chat.updateRequestCard({ channel: 'C0APPROVALS', ts: '1.2' }, view));
    expect(error).toMatchObject({ code: 'message_not_found', method: 'chat.update' });
  });

  it('reports an HTTP failure as http_error', async () => {
    overrides.set('conversations.open', { status: 500, body: { oops: true } });
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    const error = await failure(chat.notify('U0ALICE', { kind: 'denied', grant, target }));
    expect(error).toMatchObject({ code: 'http_error', method: 'conversations.open' });
    expect(error.message).toContain('HTTP 500');
  });

  it('reports an unreachable Slack as request_error without the token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/api/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const chat = createSlackChat({ client: client(deadUrl), served: SERVED, clock: fakeClock() });
    const error = await failure(chat.userGroupMembers('S0SRE'));
    expect(error.code).toBe('request_error');
    expect(`${error.message} ${error.stack}`).not.toContain(TOKEN);
  });

  it('posts an audit line linking to the thread by the permalink Slack gives', async () => {
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    await chat.postAuditLine('C0AUDIT', auditLine);

    expect(methods()).toEqual(['chat.getPermalink', 'chat.postMessage']);
    expect(recorded[0]?.params).toMatchObject({ channel: 'C0APPROVALS', message_ts: '1700000000.000100' });
    expect(recorded[1]?.params.channel).toBe('C0AUDIT');
    expect(recorded[1]?.params.blocks).toContain(
      'https://acme.slack.com/archives/C0APPROVALS/p1700000000000100',
    );
  });

  it('still posts the audit line, without the link, when Slack cannot give the permalink', async () => {
    overrides.set('chat.getPermalink', { body: { ok: false, error: 'message_not_found' } });
    const chat = createSlackChat({ client: client(), served: SERVED, clock: fakeClock() });
    await chat.postAuditLine('C0AUDIT', auditLine);

    expect(methods()).toEqual(['chat.getPermalink', 'chat.postMessage']);
    expect(recorded[1]?.params.blocks).not.toContain('https://');
    expect(recorded[1]?.params.blocks).toContain('grant a1b2');
  });
});

const auditLine: AuditLine = {
  subject: 'grant',
  kind: 'approved',
  grantId: 'a1b2',
  target: 'prod-raspi',
  requester: 'U0ALICE',
  by: 'U0CAROL',
  at: '2026-11-23T10:02:00Z',
  minutes: 60,
  thread: { channel: 'C0APPROVALS', ts: '1700000000.000100' },
};
