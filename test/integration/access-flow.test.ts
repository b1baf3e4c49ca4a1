import {
  ACTION_APPROVE,
  ACTION_DENY,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
} from '../../src/adapters/slack/action-ids';
import type { PostedMessage } from '../../src/adapters/sandbox/fake-slack-api';
import { type RunningKeyturn, startKeyturn } from '../../src/main/server';
import { silentLogger, testConfig } from '../support/fakes';
import {
  buttonClick,
  postSigned,
  slashCommand,
  startFakeSlack,
  viewSubmission,
} from '../support/slack-requests';

const SECRET = 'integration-signing-secret';
const ALICE = { kind: 'user', name: 'alice' } as const;

describe('access flow over the real HTTP server with signed Slack requests', () => {
  let slack: Awaited<ReturnType<typeof startFakeSlack>>;
  let keyturn: RunningKeyturn;

  beforeEach(async () => {
    slack = await startFakeSlack({ userGroups: { S0SREGROUP: ['U0DAVE'] } });
    keyturn = await startKeyturn({
      env: { SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.url },
      port: 0,
      config: testConfig(),
      logger: silentLogger,
      readiness: { maxWaitMs: 2_000, firstDelayMs: 10 },
    });
  });

  afterEach(async () => {
    await keyturn.close();
    await slack.close();
  });

  const send = (body: string, opts: Partial<Parameters<typeof postSigned>[2]> = {}) =>
    postSigned(keyturn.url, body, { secret: SECRET, ...opts });

  async function requestAndGetCard(): Promise<{ grantId: string; card: PostedMessage }> {
    const res = await send(slashCommand('U0ALICE', 'prod-raspi 1h replace sensor on line 3'));
    expect(res.status).toBe(200);
    const reply = JSON.parse(res.body) as { text: string; response_type: string };
    expect(reply.response_type).toBe('ephemeral');
    const grantId = /Request `([a-z0-9]+)`/.exec(reply.text)?.[1];
    if (!grantId) throw new Error(`no grant id in ${reply.text}`);
    await keyturn.queue.idle();
    const cards = slack.api.messagesIn('C0APPROVALS');
    expect(cards).toHaveLength(1);
    return { grantId, card: cards[0] as PostedMessage };
  }

  const click = (user: string, grantId: string, card: PostedMessage, actionId = ACTION_APPROVE) =>
    send(buttonClick({ user, actionId, value: grantId, card: { channel: card.channel, ts: card.ts } }));

  it('request → card → approve → policy attached → ready DM', async () => {
    const { grantId, card } = await requestAndGetCard();
    expect(JSON.stringify(card.blocks)).toContain(ACTION_APPROVE);
    expect(keyturn.account?.attachedPolicies(ALICE)).toEqual([]);

    expect((await click('U0CAROL', grantId, card)).status).toBe(200);
    await keyturn.queue.idle();

    const attached = keyturn.account?.attachedPolicies(ALICE) ?? [];
    expect(attached).toEqual([`arn:aws:iam::123456789012:policy/keyturn/keyturn-${grantId}`]);
    expect(await keyturn.deps.grants.get(grantId)).toMatchObject({ status: 'active', decidedBy: 'U0CAROL' });

    const dms = slack.api.dmsTo('U0ALICE').map((m) => `${m.text} ${JSON.stringify(m.blocks)}`);
    expect(dms.some((t) => t.includes('aws ssm start-session --target mi-0a1b2c3d4e5f60001'))).toBe(true);
    expect(slack.api.messagesIn('C0APPROVALS')[0]?.updates).toBeGreaterThan(0);
    expect(JSON.stringify(slack.api.messagesIn('C0APPROVALS')[0]?.blocks)).not.toContain(ACTION_APPROVE);
  });

  it('an approver in a Slack user group may approve', async () => {
    const { grantId, card } = await requestAndGetCard();
    await click('U0DAVE', grantId, card);
    await keyturn.queue.idle();
    expect((await keyturn.deps.grants.get(grantId))?.status).toBe('active');
  });

  it('a wrong signature is refused with 401 and changes nothing', async () => {
    const res = await send(slashCommand('U0ALICE', 'prod-raspi 1h x'), { signature: 'v0=deadbeef' });
    expect(res.status).toBe(401);
    await keyturn.queue.idle();
    expect(slack.api.messages).toEqual([]);
  });

  it('a request signed five minutes ago is refused with 401', async () => {
    const res = await send(slashCommand('U0ALICE', 'prod-raspi 1h x'), {
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(res.status).toBe(401);
    await keyturn.queue.idle();
    expect(slack.api.messages).toEqual([]);
  });

  it('an unsigned request is refused with 401', async () => {
    const res = await fetch(`${keyturn.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: slashCommand('U0ALICE', 'prod-raspi 1h x'),
    });
    expect(res.status).toBe(401);
  });

  it('a non-approver click is refused privately and changes nothing', async () => {
    const { grantId, card } = await requestAndGetCard();
    const before = await keyturn.deps.grants.get(grantId);
    expect((await click('U0BOB', grantId, card)).status).toBe(200);
    await keyturn.queue.idle();
    const told = slack.api.ephemeralsFor('U0BOB');
    expect(told).toHaveLength(1);
    expect(told[0]?.text).toContain('Only the approvers of prod-raspi');
    expect(await keyturn.deps.grants.get(grantId)).toEqual(before);
    expect(keyturn.account?.attachedPolicies({ kind: 'user', name: 'alice' })).toEqual([]);
  });

  it('20 concurrent approve clicks create exactly one policy and one ready DM', async () => {
    const { grantId, card } = await requestAndGetCard();
    const clicks = await Promise.all(Array.from({ length: 20 }, () => click('U0CAROL', grantId, card)));
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    await keyturn.queue.idle();
    const created = keyturn.account?.calls.filter((c) => c.op === 'createPolicy') ?? [];
    expect(created).toHaveLength(1);
    expect(keyturn.account?.attachedPolicies(ALICE)).toHaveLength(1);
    const ready = slack.api
      .dmsTo('U0ALICE')
      .filter((m) => JSON.stringify(m.blocks).includes('start-session'));
    expect(ready).toHaveLength(1);
    const grant = await keyturn.deps.grants.get(grantId);
    expect(grant?.history.map((h) => h.to)).toEqual(['pending', 'approved', 'active']);
  });

  it('a Slack retry of a click changes nothing more', async () => {
    const { grantId, card } = await requestAndGetCard();
    const body = buttonClick({ user: 'U0CAROL', actionId: ACTION_APPROVE, value: grantId, card });
    await send(body);
    await send(body, { retryNum: 1 });
    await keyturn.queue.idle();
    expect(keyturn.account?.calls.filter((c) => c.op === 'createPolicy')).toHaveLength(1);
    expect((await keyturn.deps.grants.get(grantId))?.history).toHaveLength(3);
  });

  it('deny opens a modal for the reason; submitting it denies and tells the requester', async () => {
    const { grantId, card } = await requestAndGetCard();
    await click('U0CAROL', grantId, card, ACTION_DENY);
    expect(slack.api.views).toHaveLength(1);
    const res = await send(
      viewSubmission({
        user: 'U0CAROL',
        callbackId: VIEW_DENY_REASON,
        privateMetadata: grantId,
        values: {
          [BLOCK_DENY_REASON]: {
            [INPUT_DENY_REASON]: { type: 'plain_text_input', value: 'use staging first' },
          },
        },
      }),
    );
    expect(res.status).toBe(200);
    await keyturn.queue.idle();
    expect(await keyturn.deps.grants.get(grantId)).toMatchObject({
      status: 'denied',
      denyReason: 'use staging first',
    });
    const dm = slack.api.dmsTo('U0ALICE').map((m) => `${m.text} ${JSON.stringify(m.blocks)}`);
    expect(dm.some((t) => t.includes('use staging first'))).toBe(true);
    expect(keyturn.account?.calls.filter((c) => c.op === 'createPolicy')).toHaveLength(0);
  });

  it('an over-long deny reason is answered in the modal and denies nothing', async () => {
    const { grantId } = await requestAndGetCard();
    const res = await send(
      viewSubmission({
        user: 'U0CAROL',
        callbackId: VIEW_DENY_REASON,
        privateMetadata: grantId,
        values: {
          [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: { type: 'plain_text_input', value: 'x'.repeat(501) } },
        },
      }),
    );
    expect(JSON.parse(res.body)).toMatchObject({ response_action: 'errors' });
    expect((await keyturn.deps.grants.get(grantId))?.status).toBe('pending');
  });

  it('a non-approver clicking Deny gets no modal', async () => {
    const { grantId, card } = await requestAndGetCard();
    await click('U0BOB', grantId, card, ACTION_DENY);
    expect(slack.api.views).toHaveLength(0);
    expect(slack.api.ephemeralsFor('U0BOB')).toHaveLength(1);
  });

  it('refusals are ephemeral and store nothing', async () => {
    for (const text of ['nope 1h x', 'prod-raspi 9h x', 'prod-raspi 1h']) {
      const res = await send(slashCommand('U0ALICE', text));
      expect(JSON.parse(res.body)).toMatchObject({ response_type: 'ephemeral' });
    }
    const unmapped = await send(slashCommand('U0STRANGER', 'prod-raspi 1h x'));
    expect(JSON.parse(unmapped.body).text).toContain('not mapped to an AWS identity');
    await keyturn.queue.idle();
    expect(slack.api.messages).toEqual([]);
  });

  it('GET /healthz answers 200 with JSON', async () => {
    const res = await fetch(`${keyturn.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });
});
