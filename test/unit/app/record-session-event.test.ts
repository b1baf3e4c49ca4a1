import { parseSessionEvent, recordSessionEvent } from '../../../src/app/record-session-event';
import { reconcileSessions } from '../../../src/app/reconcile-sessions';
import { announceSession } from '../../../src/app/session-tracking';
import { END_GRACE_MS, type Session } from '../../../src/domain/session';
import type { MemorySessionStore, RecordingSessionChat } from '../../support/fakes';
import {
  activate,
  alice,
  dave,
  MINUTE,
  RASPI_NODE,
  type Scenario,
  STAGING_NODE,
  scenario,
} from '../../support/grant-scenarios';
import { FACTORY, FACTORY_NODE, FRANKFURT, HOME, organisation } from '../../support/places';

const ACCOUNT = '123456789012';
// Sessions through the access roles: Owner `assumed-role/<access role>/<pinned session name>`.
const ALICE_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0alice/alice`;
const BOB_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0bob/bob`;

/** A CloudTrail record of a Session Manager call, as EventBridge delivers it. */
function cloudTrail(
  eventName: 'StartSession' | 'ResumeSession' | 'TerminateSession',
  opts: {
    caller: string;
    sessionId: string;
    at: string;
    target?: string;
    documentName?: string | null;
    errorCode?: string;
  },
) {
  return {
    version: '0',
    id: 'e0a1b2c3',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.ssm',
    account: ACCOUNT,
    time: opts.at,
    region: 'ap-northeast-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { type: 'IAMUser', arn: opts.caller, accountId: ACCOUNT },
      eventTime: opts.at,
      eventSource: 'ssm.amazonaws.com',
      eventName,
      awsRegion: 'ap-northeast-1',
      requestParameters:
        eventName === 'StartSession'
          ? { target: opts.target, documentName: opts.documentName ?? null }
          : { sessionId: opts.sessionId },
      responseElements: opts.errorCode
        ? null
        : eventName === 'TerminateSession'
          ? { sessionId: opts.sessionId }
          : {
              sessionId: opts.sessionId,
              tokenValue: 'Value hidden due to security reasons.',
              streamUrl: 'wss://…',
            },
      ...(opts.errorCode ? { errorCode: opts.errorCode, errorMessage: 'denied' } : {}),
      eventType: 'AwsApiCall',
    },
  };
}

function parts(s: Scenario) {
  return {
    sessions: s.deps.sessions as MemorySessionStore,
    chat: s.deps.sessionChat as RecordingSessionChat,
  };
}

/** alice holds an active grant (card posted) and opens a real session on the simulated account. */
async function aliceInSession(documentName?: string) {
  const s = scenario();
  const grant = await activate(s);
  s.clock.advance(MINUTE);
  const opened = await s.account.startSession(alice, RASPI_NODE, documentName);
  if (!opened.ok) throw new Error(`session refused: ${opened.reason}`);
  const id = opened.session.id;
  const start = cloudTrail('StartSession', {
    caller: ALICE_ARN,
    sessionId: id,
    at: opened.session.startedAt as string,
    target: RASPI_NODE,
    ...(documentName ? { documentName } : {}),
  });
  return { s, grant, id, start, ...parts(s) };
}

describe('parseSessionEvent', () => {
  const at = '2026-11-23T10:05:00Z';
  it('reads StartSession (no document name: the default shell), ResumeSession and TerminateSession', () => {
    expect(
      parseSessionEvent(
        cloudTrail('StartSession', { caller: ALICE_ARN, sessionId: 'alice-1', at, target: RASPI_NODE }),
      ),
    ).toEqual({
      ok: true,
      observation: { source: 'start-call', id: 'alice-1', owner: ALICE_ARN, nodeId: RASPI_NODE, at },
    });
    expect(
      parseSessionEvent(
        cloudTrail('StartSession', {
          caller: ALICE_ARN,
          sessionId: 'alice-1',
          at,
          target: RASPI_NODE,
          documentName: 'AWS-StartSSHSession',
        }),
      ),
    ).toMatchObject({ ok: true, observation: { documentName: 'AWS-StartSSHSession' } });
    expect(
      parseSessionEvent(cloudTrail('ResumeSession', { caller: ALICE_ARN, sessionId: 'alice-1', at })),
    ).toEqual({
      ok: true,
      observation: { source: 'resume-call', id: 'alice-1', owner: ALICE_ARN, at },
    });
    expect(
      parseSessionEvent(cloudTrail('TerminateSession', { caller: BOB_ARN, sessionId: 'alice-1', at })),
    ).toEqual({
      ok: true,
      observation: { source: 'terminate-call', id: 'alice-1', by: BOB_ARN, at },
    });
  });

  it('ignores failed calls, other API calls and anything that is not an event', () => {
    const denied = cloudTrail('StartSession', {
      caller: BOB_ARN,
      sessionId: 'x',
      at,
      target: RASPI_NODE,
      errorCode: 'AccessDenied',
    });
    expect(parseSessionEvent(denied)).toEqual({ ok: false, reason: 'failed-call' });
    const other = cloudTrail('StartSession', { caller: ALICE_ARN, sessionId: 'x', at, target: RASPI_NODE });
    expect(parseSessionEvent({ ...other, detail: { ...other.detail, eventName: 'SendCommand' } })).toEqual({
      ok: false,
      reason: 'not-a-session-call',
    });
    expect(parseSessionEvent(null)).toEqual({ ok: false, reason: 'not-a-session-call' });
    expect(parseSessionEvent({ detail: { eventName: 'StartSession', eventTime: at } })).toEqual({
      ok: false,
      reason: 'incomplete',
    });
  });
});

describe('recordSessionEvent', () => {
  it('start → end: the start line in the grant’s thread at once, the summary once History has the end', async () => {
    const { s, grant, id, start, sessions, chat } = await aliceInSession();

    const started = await recordSessionEvent(s.deps, start);
    expect(started).toMatchObject({ outcome: 'recorded', posted: 1 });
    expect(await sessions.get(id)).toMatchObject({
      status: 'active',
      owner: ALICE_ARN,
      node: { id: RASPI_NODE, name: 'raspi-line-1' },
      document: 'shell',
      grantId: grant.id,
    });
    expect(chat.started).toHaveLength(1);
    expect(chat.started[0]?.thread).toEqual(grant.card);
    expect(chat.started[0]?.view.grant.id).toBe(grant.id);

    s.clock.advance(20 * MINUTE);
    await s.account.terminateSession(id);
    const ended = await recordSessionEvent(
      s.deps,
      cloudTrail('TerminateSession', { caller: ALICE_ARN, sessionId: id, at: s.clock.now().toISOString() }),
    );
    expect(ended).toMatchObject({ outcome: 'recorded', posted: 0 });
    expect((await sessions.get(id))?.status).toBe('ended');
    expect(chat.summaries).toHaveLength(0);

    // The next sweep reads History, which carries the log location: now the summary goes out.
    s.clock.advance(MINUTE);
    await reconcileSessions(s.deps);
    expect(chat.summaries).toHaveLength(1);
    expect(chat.summaries[0]?.thread).toEqual(grant.card);
    expect(chat.summaries[0]?.view.ending).toEqual({ kind: 'exited', by: ALICE_ARN });
    expect(chat.started).toHaveLength(1);
    expect((await sessions.get(id))?.settledAt).toBeDefined();
  });

  it('end before start (out of order): nothing is posted for the end alone; the start fills in, no late start line', async () => {
    const { s, grant, id, start, sessions, chat } = await aliceInSession('AWS-StartSSHSession');
    s.clock.advance(10 * MINUTE);
    await s.account.terminateSession(id);
    const terminate = cloudTrail('TerminateSession', {
      caller: ALICE_ARN,
      sessionId: id,
      at: s.clock.now().toISOString(),
    });

    await recordSessionEvent(s.deps, terminate);
    expect(await sessions.get(id)).toMatchObject({ status: 'ended' });
    expect((await sessions.get(id))?.owner).toBeUndefined();

    await recordSessionEvent(s.deps, start);
    const stored = await sessions.get(id);
    expect(stored).toMatchObject({ status: 'ended', grantId: grant.id, document: 'ssh', owner: ALICE_ARN });
    expect(stored?.startedAt).toBeDefined();
    expect(chat.started).toHaveLength(0);

    s.clock.advance(END_GRACE_MS);
    await reconcileSessions(s.deps);
    expect(chat.summaries).toHaveLength(1);
    expect(chat.summaries[0]?.view.session.document).toBe('ssh');
  });

  it('duplicate events, even at once, record one session and post one start line', async () => {
    const { s, id, start, sessions, chat } = await aliceInSession();
    await Promise.all([
      recordSessionEvent(s.deps, start),
      recordSessionEvent(s.deps, start),
      recordSessionEvent(s.deps, start),
    ]);
    await recordSessionEvent(s.deps, start);
    expect(chat.started).toHaveLength(1);
    const writes = sessions.writes;
    await recordSessionEvent(s.deps, start);
    // A duplicate costs a read, not a write.
    expect(sessions.writes).toBe(writes);
    expect((await sessions.get(id))?.status).toBe('active');

    const terminate = cloudTrail('TerminateSession', {
      caller: ALICE_ARN,
      sessionId: id,
      at: s.clock.now().toISOString(),
    });
    await recordSessionEvent(s.deps, terminate);
    await recordSessionEvent(s.deps, terminate);
    await recordSessionEvent(s.deps, start);
    expect((await sessions.get(id))?.status).toBe('ended');
  });

  it('two processes announcing the same session at once (an event and a sweep) post once', async () => {
    const { s, id, sessions, chat } = await aliceInSession();
    await reconcileSessions({
      ...s.deps,
      sessionChat: { ...s.deps.sessionChat, postSessionStarted: async () => {} },
    });
    // Recorded, and its start line claimed by that sweep: take the claim back to race for it.
    const stored = await sessions.get(id);
    if (!stored) throw new Error('not recorded');
    const { startPostedAt: _claimed, ...unclaimed } = stored;
    await sessions.save({ ...unclaimed, version: stored.version + 1 }, stored.version);
    const fresh = (await sessions.get(id)) as Session;
    const results = await Promise.all([announceSession(s.deps, fresh), announceSession(s.deps, fresh)]);
    expect(results.map((r) => r.posted).sort()).toEqual([0, 1]);
    expect(chat.started).toHaveLength(1);
  });

  it('a session that matches no grant is posted to the audit channel once, with its owner and node', async () => {
    const s = scenario();
    const { chat, sessions } = parts(s);
    const event = cloudTrail('StartSession', {
      caller: BOB_ARN,
      sessionId: 'bob-0a1b2c3d4e5f6a7b8',
      at: s.clock.now().toISOString(),
      target: STAGING_NODE,
    });
    await recordSessionEvent(s.deps, event);
    await recordSessionEvent(s.deps, event);
    await recordSessionEvent(
      s.deps,
      cloudTrail('TerminateSession', {
        caller: BOB_ARN,
        sessionId: 'bob-0a1b2c3d4e5f6a7b8',
        at: s.clock.now().toISOString(),
      }),
    );
    expect(chat.unmatched).toHaveLength(1);
    expect(chat.unmatched[0]).toMatchObject({
      channel: 'C0AUDIT',
      view: { people: ['U0BOB'], session: { owner: BOB_ARN, node: { id: STAGING_NODE } } },
    });
    // Names come from the configured targets' nodes; this one belongs to none of them.
    expect(chat.unmatched[0]?.view.session.node?.name).toBeUndefined();
    expect(chat.started).toHaveLength(0);
    expect((await sessions.get('bob-0a1b2c3d4e5f6a7b8'))?.unmatched).toBe(true);
  });

  it('a session on a node outside the grant’s target, or by someone else, is unmatched even while alice holds a grant', async () => {
    const s = scenario();
    await activate(s);
    const { chat } = parts(s);
    const at = s.clock.now().toISOString();
    await recordSessionEvent(
      s.deps,
      cloudTrail('StartSession', { caller: ALICE_ARN, sessionId: 'alice-x', at, target: STAGING_NODE }),
    );
    await recordSessionEvent(
      s.deps,
      cloudTrail('StartSession', { caller: BOB_ARN, sessionId: 'bob-x', at, target: RASPI_NODE }),
    );
    expect(chat.unmatched.map((u) => u.view.session.id).sort()).toEqual(['alice-x', 'bob-x']);
    expect(chat.started).toHaveLength(0);
  });

  it('a role’s grant matches the assumed-role session of whoever holds it', async () => {
    const s = scenario();
    const grant = await activate(s, { user: 'U0DAVE' });
    s.clock.advance(MINUTE);
    const opened = await s.account.startSession(dave, RASPI_NODE);
    if (!opened.ok) throw new Error(opened.reason);
    await recordSessionEvent(
      s.deps,
      cloudTrail('StartSession', {
        caller: opened.session.owner,
        sessionId: opened.session.id,
        at: opened.session.startedAt as string,
        target: RASPI_NODE,
      }),
    );
    expect((await parts(s).sessions.get(opened.session.id))?.grantId).toBe(grant.id);
  });

  it('a failed call records nothing', async () => {
    const s = scenario();
    const outcome = await recordSessionEvent(
      s.deps,
      cloudTrail('StartSession', {
        caller: BOB_ARN,
        sessionId: 'bob-1',
        at: s.clock.now().toISOString(),
        target: RASPI_NODE,
        errorCode: 'AccessDenied',
      }),
    );
    expect(outcome).toEqual({ outcome: 'ignored', reason: 'failed-call' });
    expect(parts(s).sessions.items.size).toBe(0);
  });

  it('ResumeSession of a session Keyturn never heard of: kept open until DescribeSessions fills it in', async () => {
    const { s, grant, id, sessions, chat } = await aliceInSession();
    await recordSessionEvent(
      s.deps,
      cloudTrail('ResumeSession', { caller: ALICE_ARN, sessionId: id, at: s.clock.now().toISOString() }),
    );
    expect(await sessions.get(id)).toMatchObject({ status: 'active', owner: ALICE_ARN });
    expect(chat.started).toHaveLength(0);
    await reconcileSessions(s.deps);
    expect(await sessions.get(id)).toMatchObject({ grantId: grant.id, node: { id: RASPI_NODE } });
    expect(chat.started).toHaveLength(1);
  });
});

describe('recordSessionEvent: many accounts and regions', () => {
  const ALICE_IN_FACTORY = `arn:aws:sts::${FACTORY.accountId}:assumed-role/keyturn-u0alice/alice`;
  const AT = '2026-11-23T10:01:00Z';
  /** The same CloudTrail record, as a member account's forwarding rule delivers it: its own account and region. */
  const from = (place: { accountId: string; region: string }, event: ReturnType<typeof cloudTrail>) => ({
    ...event,
    account: place.accountId,
    region: place.region,
    detail: { ...event.detail, awsRegion: place.region },
  });
  /** alice's access role in the factory account starting a session on its node, as the factory forwards it. */
  const aliceStartsInFactory = () =>
    from(
      FACTORY,
      cloudTrail('StartSession', {
        caller: ALICE_IN_FACTORY,
        sessionId: 'alice-factory',
        at: AT,
        target: FACTORY_NODE,
      }),
    );

  it('matches a session to a grant given in its own account only, though the access role has the same name in each', async () => {
    const o = organisation();
    const grant = await activate(o, { user: 'U0ALICE', text: 'factory-raspi 1h replace sensor' });
    const { sessions, chat } = parts(o);
    o.clock.advance(MINUTE);

    // alice's access role in Keyturn's own account, on a home node: her factory grant explains nothing here.
    const home = await recordSessionEvent(
      o.deps,
      from(
        HOME,
        cloudTrail('StartSession', {
          caller: ALICE_ARN,
          sessionId: 'alice-home',
          at: AT,
          target: RASPI_NODE,
        }),
      ),
    );
    expect(home).toMatchObject({ outcome: 'recorded', session: { unmatched: true } });
    expect((await sessions.get('alice-home'))?.grantId).toBeUndefined();
    expect(chat.unmatched.map((u) => u.view.people)).toEqual([['U0ALICE']]);

    // Her access role in the factory account, on its node: the factory grant.
    const factory = await recordSessionEvent(o.deps, aliceStartsInFactory());
    expect(factory).toMatchObject({ outcome: 'recorded', posted: 1 });
    expect(await sessions.get('alice-factory')).toMatchObject({
      account: FACTORY.accountId,
      region: FACTORY.region,
      grantId: grant.id,
      node: { id: FACTORY_NODE, name: 'factory-1' },
    });
    expect(chat.started.map((p) => p.view.grant.id)).toEqual([grant.id]);
  });

  it('a session in one account is not matched to the same person’s grant in another (home grant, factory session)', async () => {
    const o = organisation();
    await activate(o, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
    o.clock.advance(MINUTE);
    const outcome = await recordSessionEvent(o.deps, aliceStartsInFactory());
    expect(outcome).toMatchObject({ outcome: 'recorded', session: { unmatched: true } });
    expect(parts(o).chat.started).toEqual([]);
    expect(parts(o).chat.unmatched.map((u) => u.view.people)).toEqual([['U0ALICE']]);
  });

  it('ignores, with a reason, events from an account or a region Keyturn does not serve', async () => {
    const o = organisation();
    await activate(o, { user: 'U0ALICE', text: 'factory-raspi 1h replace sensor' });
    const start = cloudTrail('StartSession', {
      caller: ALICE_IN_FACTORY,
      sessionId: 'alice-elsewhere',
      at: AT,
      target: FACTORY_NODE,
    });
    for (const place of [
      { accountId: '999988887777', region: FACTORY.region },
      { accountId: FACTORY.accountId, region: 'us-east-1' },
    ]) {
      expect(await recordSessionEvent(o.deps, from(place, start))).toEqual({
        outcome: 'ignored',
        reason: 'not-served',
      });
    }
    expect(await parts(o).sessions.get('alice-elsewhere')).toBeUndefined();
  });

  it('a TerminateSession made in another account, naming this session’s id, does not end it', async () => {
    const o = organisation();
    await activate(o, { user: 'U0ALICE', text: 'factory-raspi 1h replace sensor' });
    o.clock.advance(MINUTE);
    await recordSessionEvent(o.deps, aliceStartsInFactory());
    // TerminateSession succeeds for any id (FACTS.md), so someone in Frankfurt can name it.
    const mallory = `arn:aws:iam::${FRANKFURT.accountId}:user/mallory`;
    await recordSessionEvent(
      o.deps,
      from(
        FRANKFURT,
        cloudTrail('TerminateSession', { caller: mallory, sessionId: 'alice-factory', at: AT }),
      ),
    );
    expect(await parts(o).sessions.get('alice-factory')).toMatchObject({
      status: 'active',
      account: FACTORY.accountId,
    });
    expect((await parts(o).sessions.get('alice-factory'))?.end).toBeUndefined();
  });

  it('a TerminateSession made in another account before the session’s own start is seen does not hide it', async () => {
    const o = organisation();
    const grant = await activate(o, { user: 'U0ALICE', text: 'factory-raspi 1h replace sensor' });
    o.clock.advance(MINUTE);
    // Frankfurt names the id first: the record it creates has no owner, node or start.
    const mallory = `arn:aws:iam::${FRANKFURT.accountId}:user/mallory`;
    await recordSessionEvent(
      o.deps,
      from(
        FRANKFURT,
        cloudTrail('TerminateSession', { caller: mallory, sessionId: 'alice-factory', at: AT }),
      ),
    );
    // The session's own start, in its own account: the record moves there, without the foreign end.
    const outcome = await recordSessionEvent(o.deps, aliceStartsInFactory());
    expect(outcome).toMatchObject({ outcome: 'recorded' });
    const session = await parts(o).sessions.get('alice-factory');
    expect(session).toMatchObject({
      status: 'active',
      account: FACTORY.accountId,
      region: FACTORY.region,
      grantId: grant.id,
      owner: ALICE_IN_FACTORY,
    });
    expect(session?.end).toBeUndefined();
    expect(parts(o).chat.started.map((p) => p.view.grant.id)).toEqual([grant.id]);
  });
});
