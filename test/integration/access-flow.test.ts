import type { PostedMessage } from '../../src/adapters/sandbox/fake-slack-api';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  ACTION_EXTENSION_APPROVE,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
} from '../../src/adapters/slack/action-ids';
import { type Harness, startHarness, textOf } from '../support/harness';
import { buttonClick, slashCommand, viewSubmission } from '../support/slack-requests';

// keyturn.example.yml maps alice to her access role (src/domain/person.ts).
const ALICE = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' } as const;

describe('access flow over the real HTTP server with signed Slack requests', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const createdPolicies = () => h.account.calls.filter((c) => c.op === 'createPolicy');

  it('request → card → approve → policy attached → ready DM', async () => {
    const { grantId, card, reply } = await h.request();
    expect(reply).toContain('sent to <#C0APPROVALS>');
    expect(h.slack.api.messagesIn('C0APPROVALS')).toHaveLength(1);
    expect(JSON.stringify(card.blocks)).toContain(ACTION_APPROVE);
    expect(h.account.attachedPolicies(ALICE)).toEqual([]);

    expect((await h.click('U0CAROL', grantId, card)).status).toBe(200);

    expect(h.account.attachedPolicies(ALICE)).toEqual([
      `arn:aws:iam::123456789012:policy/keyturn/keyturn-${grantId}`,
    ]);
    expect(await h.keyturn.deps.grants.get(grantId)).toMatchObject({
      status: 'active',
      decidedBy: 'U0CAROL',
    });
    const dms = h.slack.api.dmsTo('U0ALICE').map(textOf);
    expect(
      dms.some((t) => t.includes('aws ssm start-session --profile keyturn --target mi-0a1b2c3d4e5f60001')),
    ).toBe(true);
    const updated = h.slack.api.messagesIn('C0APPROVALS')[0];
    expect(updated?.updates).toBeGreaterThan(0);
    expect(JSON.stringify(updated?.blocks)).not.toContain(ACTION_APPROVE);
  });

  it('the audit channel gets one line per move, each linking to the request card by its permalink', async () => {
    const { grantId, card } = await h.request();
    await h.click('U0CAROL', grantId, card);
    await h.keyturn.queue.idle();

    const lines = h.slack.api.messagesIn('C0AUDIT').map(textOf);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/<@U0ALICE> requested access to \*prod-raspi\*/);
    expect(lines[1]).toMatch(/Approved by <@U0CAROL>/);
    expect(lines[2]).toMatch(/access to \*prod-raspi\* is active until/);
    const link = `https://sandbox.slack.invalid/archives/C0APPROVALS/p${card.ts.replace('.', '')}|grant ${grantId} thread`;
    for (const line of lines) expect(line).toContain(link);
  });

  it('an approver in a Slack user group may approve', async () => {
    const { grantId, card } = await h.request();
    await h.click('U0DAVE', grantId, card);
    expect((await h.keyturn.deps.grants.get(grantId))?.status).toBe('active');
  });

  it('a wrong signature is refused with 401 and changes nothing', async () => {
    const res = await h.send(slashCommand('U0ALICE', 'prod-raspi 1h x'), { signature: 'v0=deadbeef' });
    expect(res.status).toBe(401);
    await h.keyturn.queue.idle();
    expect(h.slack.api.messages).toEqual([]);
  });

  it('a request signed five minutes ago is refused with 401', async () => {
    const res = await h.send(slashCommand('U0ALICE', 'prod-raspi 1h x'), {
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(res.status).toBe(401);
    await h.keyturn.queue.idle();
    expect(h.slack.api.messages).toEqual([]);
  });

  it('an unsigned request is refused with 401', async () => {
    const res = await fetch(`${h.keyturn.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: slashCommand('U0ALICE', 'prod-raspi 1h x'),
    });
    expect(res.status).toBe(401);
  });

  it('a non-approver click is refused privately and changes nothing', async () => {
    const { grantId, card } = await h.request();
    const before = await h.keyturn.deps.grants.get(grantId);
    expect((await h.click('U0BOB', grantId, card)).status).toBe(200);
    const told = h.slack.api.ephemeralsFor('U0BOB');
    expect(told).toHaveLength(1);
    expect(told[0]?.text).toContain('Only the approvers of prod-raspi');
    expect(await h.keyturn.deps.grants.get(grantId)).toEqual(before);
    expect(h.account.attachedPolicies(ALICE)).toEqual([]);
  });

  it('20 concurrent approve clicks create exactly one policy and one ready DM', async () => {
    const { grantId, card } = await h.request();
    const body = buttonClick({ user: 'U0CAROL', actionId: ACTION_APPROVE, value: grantId, card });
    const clicks = await Promise.all(Array.from({ length: 20 }, () => h.send(body)));
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    await h.keyturn.queue.idle();
    expect(createdPolicies()).toHaveLength(1);
    expect(h.account.attachedPolicies(ALICE)).toHaveLength(1);
    const ready = h.slack.api.dmsTo('U0ALICE').filter((m) => textOf(m).includes('start-session'));
    expect(ready).toHaveLength(1);
    const grant = await h.keyturn.deps.grants.get(grantId);
    expect(grant?.history.map((e) => e.to)).toEqual(['pending', 'approved', 'active']);
  });

  it('a Slack retry of a click changes nothing more', async () => {
    const { grantId, card } = await h.request();
    const body = buttonClick({ user: 'U0CAROL', actionId: ACTION_APPROVE, value: grantId, card });
    await h.send(body);
    await h.send(body, { retryNum: 1 });
    await h.keyturn.queue.idle();
    expect(createdPolicies()).toHaveLength(1);
    expect((await h.keyturn.deps.grants.get(grantId))?.history).toHaveLength(3);
  });

  const denyWith = (grantId: string, reason: string) =>
    h.send(
      viewSubmission({
        user: 'U0CAROL',
        callbackId: VIEW_DENY_REASON,
        privateMetadata: grantId,
        values: { [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: { type: 'plain_text_input', value: reason } } },
      }),
    );

  it('deny opens a modal for the reason; submitting it denies and tells the requester', async () => {
    const { grantId, card } = await h.request();
    await h.click('U0CAROL', grantId, card, ACTION_DENY);
    expect(h.slack.api.views).toHaveLength(1);
    expect((await denyWith(grantId, 'use staging first')).status).toBe(200);
    await h.keyturn.queue.idle();
    expect(await h.keyturn.deps.grants.get(grantId)).toMatchObject({
      status: 'denied',
      denyReason: 'use staging first',
    });
    expect(
      h.slack.api
        .dmsTo('U0ALICE')
        .map(textOf)
        .some((t) => t.includes('use staging first')),
    ).toBe(true);
    expect(createdPolicies()).toHaveLength(0);
  });

  it('an over-long deny reason is answered in the modal and denies nothing', async () => {
    const { grantId } = await h.request();
    const res = await denyWith(grantId, 'x'.repeat(501));
    expect(JSON.parse(res.body)).toMatchObject({ response_action: 'errors' });
    expect((await h.keyturn.deps.grants.get(grantId))?.status).toBe('pending');
  });

  it('a non-approver clicking Deny gets no modal', async () => {
    const { grantId, card } = await h.request();
    await h.click('U0BOB', grantId, card as PostedMessage, ACTION_DENY);
    expect(h.slack.api.views).toHaveLength(0);
    expect(h.slack.api.ephemeralsFor('U0BOB')).toHaveLength(1);
  });

  it('refusals are ephemeral and store nothing', async () => {
    for (const text of ['nope 1h x', 'prod-raspi 9h x', 'prod-raspi 1h']) {
      const res = await h.send(slashCommand('U0ALICE', text));
      expect(JSON.parse(res.body)).toMatchObject({ response_type: 'ephemeral' });
    }
    expect(await h.command('U0STRANGER', 'prod-raspi 1h x')).toContain('not mapped to an AWS identity');
    expect(h.slack.api.messages).toEqual([]);
  });

  it('a negative duration is answered as a bad duration with what to type, and opens nothing (issue 11, point 11)', async () => {
    const reply = await h.command('U0ALICE', 'prod-raspi -1h fix sensor');
    expect(reply).toContain("'-1h' is not a duration like 30m, 1h, 2h30m or 90m");
    expect(reply).toContain('`/access prod-raspi 1h <reason>`');
    expect(await h.keyturn.deps.grants.listByRequester('U0ALICE')).toEqual([]);
    expect(h.slack.api.messages).toEqual([]);
  });

  it('a signed /access replayed after the request was cancelled opens no new request (issue 11, point 10)', async () => {
    const body = slashCommand('U0ALICE', 'prod-raspi 1h replace sensor', '/access', 'C0WORK', {
      triggerId: '1111.2222.replayed',
    });
    const first = await h.send(body);
    await h.keyturn.queue.idle();
    const grantId = /Request `([a-z0-9]+)`/.exec(JSON.parse(first.body).text)?.[1];
    if (!grantId) throw new Error(`no grant id in ${first.body}`);
    expect(await h.command('U0ALICE', `cancel ${grantId}`)).toContain('is cancelled');
    const cardsBefore = h.slack.api.messagesIn('C0APPROVALS').length;

    const replay = await h.send(body);
    await h.keyturn.queue.idle();

    expect(replay.status).toBe(200);
    const answer = JSON.parse(replay.body) as { response_type: string; text: string };
    expect(answer.response_type).toBe('ephemeral');
    expect(answer.text).toContain('Already received');
    expect(answer.text).toContain(`request \`${grantId}\``);
    expect(answer.text).toContain('cancelled');
    expect(answer.text).toContain('Nothing new was requested');
    const grants = await h.keyturn.deps.grants.listByRequester('U0ALICE');
    expect(grants.map((g) => [g.id, g.status])).toEqual([[grantId, 'cancelled']]);
    expect(h.slack.api.messagesIn('C0APPROVALS')).toHaveLength(cardsBefore);
  });

  it('a signed /access extend replayed after the extension was applied asks for nothing more', async () => {
    const { grantId } = await h.activeGrant();
    const body = slashCommand('U0ALICE', `extend ${grantId} 30m`, '/access', 'C0WORK', {
      triggerId: '1111.2222.extend',
    });
    expect(JSON.parse((await h.send(body)).body).text).toContain('Asked the approvers');
    await h.keyturn.queue.idle();
    const card = h.slack.api.messagesIn('C0APPROVALS').at(-1) as PostedMessage;
    await h.click('U0CAROL', grantId, card, ACTION_EXTENSION_APPROVE);
    const extended = await h.keyturn.deps.grants.get(grantId);
    expect(extended?.extension?.state).toBe('extended');
    const cards = h.slack.api.messagesIn('C0APPROVALS').length;

    const replay = await h.send(body);
    await h.keyturn.queue.idle();

    expect(JSON.parse(replay.body).text).toContain('Already received');
    expect(await h.keyturn.deps.grants.get(grantId)).toEqual(extended);
    expect(h.slack.api.messagesIn('C0APPROVALS')).toHaveLength(cards);
  });

  it('a Slack retry of a pending /access answers with the request already made', async () => {
    const body = slashCommand('U0ALICE', 'prod-raspi 1h replace sensor', '/access', 'C0WORK', {
      triggerId: '1111.2222.retried',
    });
    await h.send(body);
    const retry = await h.send(body, { retryNum: 1 });
    await h.keyturn.queue.idle();
    expect(JSON.parse(retry.body).text).toContain('waiting for approval');
    expect(await h.keyturn.deps.grants.listByRequester('U0ALICE')).toHaveLength(1);
    expect(h.slack.api.messagesIn('C0APPROVALS')).toHaveLength(1);
  });

  it('GET /healthz answers 200 with JSON', async () => {
    const res = await fetch(`${h.keyturn.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });
});
