import { postDigest } from '../../src/app/post-digest';
import { recordSessionEvent } from '../../src/app/record-session-event';
import { sweep } from '../../src/app/sweep';
import { localDateOf } from '../../src/domain/digest';
import { END_GRACE_MS } from '../../src/domain/session';
import { ManualClock } from '../support/fakes';
import { type Harness, startHarness, textOf } from '../support/harness';

// keyturn.example.yml maps alice to her access role (src/domain/person.ts).
const ALICE = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' } as const;
const BOB = { kind: 'access-role', name: 'keyturn-u0bob', sessionName: 'bob' } as const;
const RASPI = 'mi-0a1b2c3d4e5f60001';
const BUILD_RUNNER = 'i-0123456789abcdef0';

/**
 * Session tracking over the real server in sandbox mode: the simulated account's sessions, DynamoDB
 * (dynalite) for sessions and anomalies, and Slack messages through the Web API client to a fake Slack.
 */
describe('sessions and the digest over the real server', () => {
  let h: Harness;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(new Date());
    h = await startHarness({ clock });
  });
  afterEach(async () => {
    await h.close();
  });

  const thread = (card: { ts: string }) =>
    h.slack.api.messagesIn('C0APPROVALS').filter((m) => m.threadTs === card.ts);

  it('the sandbox (no CloudTrail): the sweeper finds the session, replies in the request thread, then summarizes it', async () => {
    const { grantId, card } = await h.activeGrant();
    clock.advance(60_000);
    const opened = await h.account.startSession(ALICE, RASPI);
    expect(opened.ok).toBe(true);

    await sweep(h.keyturn.deps);
    const started = thread(card);
    expect(started).toHaveLength(1);
    expect(textOf(started[0])).toContain('<@U0ALICE> opened a shell on raspi-line-1');

    clock.advance(25 * 60_000);
    if (opened.ok) h.account.exitSession(opened.session.id);
    await sweep(h.keyturn.deps);
    const replies = thread(card);
    expect(replies).toHaveLength(2);
    expect(textOf(replies[1])).toMatch(/Shell of <@U0ALICE> on raspi-line-1 .* ended \(25m\)/);
    expect(textOf(replies[1])).toContain('ended on the node with no API call');

    // Nothing more is posted on later sweeps.
    await sweep(h.keyturn.deps);
    expect(thread(card)).toHaveLength(2);
    const stored = await h.keyturn.deps.sessions.get(opened.ok ? opened.session.id : '');
    expect(stored).toMatchObject({ grantId, status: 'ended' });
    expect(stored?.settledAt).toBeDefined();
  });

  it('a CloudTrail StartSession replies at once; expiry ends the session and its summary says so', async () => {
    const { card, grant } = await h.activeGrant();
    clock.advance(60_000);
    const opened = await h.account.startSession(ALICE, RASPI, 'AWS-StartSSHSession');
    if (!opened.ok) throw new Error(opened.reason);
    const event = {
      source: 'aws.ssm',
      'detail-type': 'AWS API Call via CloudTrail',
      detail: {
        eventSource: 'ssm.amazonaws.com',
        eventName: 'StartSession',
        eventTime: opened.session.startedAt,
        userIdentity: { type: 'IAMUser', arn: opened.session.owner },
        requestParameters: { target: RASPI, documentName: 'AWS-StartSSHSession' },
        responseElements: { sessionId: opened.session.id },
      },
    };
    expect(await recordSessionEvent(h.keyturn.deps, event)).toMatchObject({ outcome: 'recorded', posted: 1 });
    expect(await recordSessionEvent(h.keyturn.deps, event)).toMatchObject({ outcome: 'recorded', posted: 0 });
    expect(textOf(thread(card)[0])).toContain('opened an SSH session on raspi-line-1');

    clock.set(grant.expiresAt as string);
    clock.advance(1_000);
    expect((await sweep(h.keyturn.deps)).ended).toBe(1);
    await h.keyturn.queue.idle();
    const summary = thread(card).at(-1);
    expect(textOf(summary)).toContain('terminated by Keyturn at expiry');
    expect(textOf(summary)).toContain('SSH sessions are not transcribed');
  });

  it('a session no grant explains is posted to the audit channel once', async () => {
    // Someone attached standing ssm:StartSession to bob's access role by hand, outside Keyturn. The
    // boundary still holds it to the configured targets' nodes, so it is a prod-raspi node.
    const standing = await h.account.createPolicy({
      name: 'standing-ssm',
      path: '/',
      description: 'hand-made',
      tags: {},
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*' }],
      },
    });
    await h.account.attachPolicy(BOB, standing.arn);
    expect((await h.account.startSession(BOB, BUILD_RUNNER)).ok).toBe(false);
    const opened = await h.account.startSession(BOB, RASPI);
    expect(opened.ok).toBe(true);

    await sweep(h.keyturn.deps);
    await sweep(h.keyturn.deps);
    const audit = h.slack.api
      .messagesIn('C0AUDIT')
      .filter((m) => m.text.startsWith('A session matched no Keyturn grant'));
    expect(audit).toHaveLength(1);
    expect(textOf(audit[0])).toContain('arn:aws:sts::123456789012:assumed-role/keyturn-u0bob/bob');
    expect(textOf(audit[0])).toContain('<@U0BOB>');
    expect(textOf(audit[0])).toContain(RASPI);
  });

  it('the digest of the day lists the session and is posted to the audit channel once', async () => {
    await h.activeGrant();
    clock.advance(60_000);
    const opened = await h.account.startSession(ALICE, RASPI);
    if (!opened.ok) throw new Error(opened.reason);
    await sweep(h.keyturn.deps);
    clock.advance(10 * 60_000);
    h.account.exitSession(opened.session.id);
    clock.advance(END_GRACE_MS);
    await sweep(h.keyturn.deps);

    const date = localDateOf(clock.now(), h.keyturn.deps.config.digest.timezone);
    expect((await postDigest(h.keyturn.deps, { date })).outcome).toBe('posted');
    expect((await postDigest(h.keyturn.deps, { date })).outcome).toBe('already-posted');
    const digests = h.slack.api.messagesIn('C0AUDIT').filter((m) => m.text.startsWith('Keyturn digest'));
    expect(digests).toHaveLength(1);
    expect(digests[0]?.text).toMatch(/1 request, 1 session, 0 runs, 0 anomalies$/);
    expect(textOf(digests[0])).toContain('*Sessions:* 1, 10 minutes in total');
    expect(textOf(digests[0])).toContain('*Active now:* 1');
  });
});
