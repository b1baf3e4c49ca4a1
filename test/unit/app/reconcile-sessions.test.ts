import { recordSessionEvent } from '../../../src/app/record-session-event';
import { reconcileSessions, VANISH_AFTER_MS } from '../../../src/app/reconcile-sessions';
import { revokeByApprover } from '../../../src/app/end-grant';
import { sweep } from '../../../src/app/sweep';
import { END_GRACE_MS, type Session } from '../../../src/domain/session';
import { onePlace, type MemorySessionStore, type RecordingSessionChat } from '../../support/fakes';
import {
  activate,
  alice,
  at,
  stored,
  drain,
  MINUTE,
  RASPI_NODE,
  type Scenario,
  scenario,
} from '../../support/grant-scenarios';
import { FACTORY, FACTORY_NODE, FRANKFURT, organisation } from '../../support/places';

/** Keyturn's own account and region (the test config's). */
const HOME = { accountId: '123456789012', region: 'ap-northeast-1' };
const ALICE_ARN = 'arn:aws:sts::123456789012:assumed-role/keyturn-u0alice/alice';

function parts(s: Scenario) {
  return {
    sessions: s.deps.sessions as MemorySessionStore,
    chat: s.deps.sessionChat as RecordingSessionChat,
  };
}

async function open(s: Scenario, document?: string): Promise<string> {
  const opened = await s.account.startSession(alice, RASPI_NODE, document);
  if (!opened.ok) throw new Error(opened.reason);
  return opened.session.id;
}

/** The InvokedAfter of each DescribeSessions History read Keyturn made. */
const historyReads = (s: Scenario) =>
  s.account.calls.filter((c) => c.op === 'sessionsSince').map((c) => c.args[0] as string);

describe('reconcileSessions', () => {
  it('terminates a session still open after its grant ended, when the revoke did not find it (e.g. an Owner filter that missed it)', async () => {
    const s = scenario();
    const grant = await activate(s);
    s.clock.advance(MINUTE);
    const id = await open(s);
    expect(await reconcileSessions(s.deps)).toMatchObject({ discovered: 1, terminatedLate: 0 });
    expect((await parts(s).sessions.get(id))?.grantId).toBe(grant.id);

    // The revoke looks with the Owner filter; here it answers nothing, so the sweep ends no session.
    const account = s.account;
    const blind = new Proxy(account, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop !== 'activeSessions') return value.bind(target);
        return (filter?: { owner?: string }) =>
          filter?.owner ? Promise.resolve([]) : target.activeSessions();
      },
    });
    at(s, grant.expiresAt as string);
    // One sweep: the revoke finds nothing to end, and the session reconcile that follows it ends the session.
    expect((await sweep({ ...s.deps, aws: onePlace({ access: s.account, fleet: blind }) })).ended).toBe(1);
    expect((await stored(s, grant.id)).status).toBe('expired');
    expect(await account.activeSessions()).toEqual([]);
    expect(account.sessionHistory().map((h) => [h.id, h.status])).toEqual([[id, 'Terminated']]);

    // Nothing left to end: the next reconcile terminates nothing more.
    expect((await reconcileSessions(s.deps)).terminatedLate).toBe(0);
  });

  it("records nothing more once past the deadline (the sweeper's timeout), leaves the cursor, and the next run goes on", async () => {
    const s = scenario();
    await activate(s);
    const { sessions } = parts(s);
    s.clock.advance(MINUTE);
    const ids = [await open(s), await open(s)];

    const cut = await reconcileSessions(s.deps, { deadline: s.clock.now() });
    expect(cut).toMatchObject({ discovered: 0, failures: 0 });
    expect(await sessions.historyCursor(HOME)).toBeUndefined();
    expect(historyReads(s)).toEqual([]);

    const next = await reconcileSessions(s.deps, { deadline: new Date(s.clock.now().getTime() + MINUTE) });
    expect(next).toMatchObject({ discovered: 2, failures: 0 });
    for (const id of ids) expect(await sessions.get(id)).toMatchObject({ status: 'active' });
    expect(await sessions.historyCursor(HOME)).toBe(s.clock.now().toISOString());
  });

  it('TerminateSession missing (the user typed exit): the end comes from DescribeSessions History', async () => {
    const s = scenario();
    const grant = await activate(s);
    const { sessions, chat } = parts(s);
    s.clock.advance(MINUTE);
    const id = await open(s);
    const startedAt = s.clock.now().toISOString();
    await recordSessionEvent(s.deps, {
      detail: {
        eventSource: 'ssm.amazonaws.com',
        eventName: 'StartSession',
        eventTime: startedAt,
        userIdentity: { arn: ALICE_ARN },
        requestParameters: { target: RASPI_NODE },
        responseElements: { sessionId: id },
      },
    });
    s.clock.advance(15 * MINUTE);
    expect(s.account.exitSession(id)).toBe(true);

    const report = await reconcileSessions(s.deps);
    expect(report).toMatchObject({ discovered: 0, ended: 1, failures: 0 });
    const stored = await sessions.get(id);
    expect(stored).toMatchObject({
      status: 'ended',
      end: { kind: 'no-api-call' },
      endedAt: s.clock.now().toISOString(),
    });
    expect(chat.summaries).toHaveLength(1);
    expect(chat.summaries[0]?.view).toMatchObject({
      grant: { id: grant.id },
      ending: { kind: 'no-api-call' },
    });
    // Reached back to the session's start: History is filtered by start time.
    expect(Date.parse(historyReads(s).at(-1) as string)).toBeLessThan(Date.parse(startedAt));
  });

  it('with no events at all (the sandbox), sessions are found Active, then ended from History', async () => {
    const s = scenario();
    const grant = await activate(s);
    const { sessions, chat } = parts(s);
    s.clock.advance(MINUTE);
    const id = await open(s, 'AWS-StartSSHSession');

    expect(await reconcileSessions(s.deps)).toMatchObject({ discovered: 1, posted: 1 });
    expect(await sessions.get(id)).toMatchObject({ status: 'active', grantId: grant.id, document: 'ssh' });
    expect(chat.started).toHaveLength(1);

    // Nothing new: a second sweep writes nothing and posts nothing.
    const writes = sessions.writes;
    expect(await reconcileSessions(s.deps)).toMatchObject({ discovered: 0, ended: 0, posted: 0 });
    expect(sessions.writes).toBe(writes);

    s.clock.advance(30 * MINUTE);
    s.account.exitSession(id);
    expect(await reconcileSessions(s.deps)).toMatchObject({ ended: 1, posted: 1 });
    expect(chat.summaries.map((x) => x.view.session.id)).toEqual([id]);
    expect((await sessions.get(id))?.settledAt).toBeDefined();
    expect(await sessions.listWatched(HOME)).toEqual([]);
  });

  it('a session whose events were lost and that ended between two sweeps is recovered from History', async () => {
    const s = scenario();
    const grant = await activate(s);
    const { sessions, chat } = parts(s);
    await reconcileSessions(s.deps);
    s.clock.advance(30_000);
    const id = await open(s);
    s.clock.advance(10_000);
    s.account.exitSession(id);
    s.clock.advance(20_000);

    expect(await reconcileSessions(s.deps)).toMatchObject({ discovered: 1, ended: 1 });
    expect(await sessions.get(id)).toMatchObject({ status: 'ended', grantId: grant.id });
    // It ended before Keyturn saw it open: the summary says it all, with no start line after the fact.
    expect(chat.started).toHaveLength(0);
    expect(chat.summaries).toHaveLength(1);
  });

  it('each History read reaches back only a little before the previous one, when nothing older is unresolved', async () => {
    const s = scenario();
    const t0 = s.clock.now().getTime();
    for (let i = 0; i < 3; i++) {
      await reconcileSessions(s.deps);
      s.clock.advance(MINUTE);
    }
    // Five minutes of overlap behind the previous read (the first has none to follow: it reaches back from now).
    expect(historyReads(s).map((iso) => (Date.parse(iso) - t0) / MINUTE)).toEqual([-5, -5, -4]);
  });

  it('terminated by Keyturn at expiry: the sweep ends the grant, then the session summary says so', async () => {
    const s = scenario();
    const grant = await activate(s);
    const { chat } = parts(s);
    s.clock.advance(MINUTE);
    const id = await open(s);
    await sweep(s.deps);
    expect(chat.started).toHaveLength(1);

    s.clock.set(grant.expiresAt as string);
    s.clock.advance(1_000);
    expect((await sweep(s.deps)).ended).toBe(1);
    await drain(s);
    expect(chat.summaries).toHaveLength(1);
    expect(chat.summaries[0]?.view.session.id).toBe(id);
    expect(chat.summaries[0]?.view.ending).toEqual({ kind: 'grant-ended', status: 'expired', by: 'keyturn' });
  });

  it('revoked by an approver: the summary names who and why', async () => {
    const s = scenario();
    const grant = await activate(s);
    const { chat } = parts(s);
    s.clock.advance(MINUTE);
    await open(s);
    await reconcileSessions(s.deps);
    s.clock.advance(5 * MINUTE);
    const revoked = await revokeByApprover(s.deps, {
      user: 'U0CAROL',
      grantId: grant.id,
      reason: 'incident over',
    });
    expect(revoked.outcome).toBe('ending');
    await drain(s);
    s.clock.advance(MINUTE);
    await reconcileSessions(s.deps);
    expect(chat.summaries[0]?.view.ending).toEqual({
      kind: 'grant-ended',
      status: 'revoked',
      by: 'U0CAROL',
      reason: 'incident over',
    });
  });

  it('an end known from an event but never listed in History: the summary goes out after the grace, without a log', async () => {
    const s = scenario();
    const grant = await activate(s);
    const { sessions, chat } = parts(s);
    const base = {
      id: 'alice-lost',
      version: 0,
      status: 'active' as const,
      firstSeenAt: s.clock.now().toISOString(),
    };
    const seen: Session = {
      ...base,
      owner: ALICE_ARN,
      node: { id: RASPI_NODE },
      document: 'shell',
      startedAt: s.clock.now().toISOString(),
      grantId: grant.id,
      startPostedAt: s.clock.now().toISOString(),
      status: 'ended',
      endedAt: s.clock.now().toISOString(),
      end: { kind: 'api-call', by: ALICE_ARN },
      version: 1,
    };
    await sessions.save(seen, 0);

    s.clock.advance(END_GRACE_MS - 1_000);
    await reconcileSessions(s.deps);
    expect(chat.summaries).toHaveLength(0);
    s.clock.advance(1_000);
    await reconcileSessions(s.deps);
    expect(chat.summaries).toHaveLength(1);
    expect(chat.summaries[0]?.view.session.outputUrl).toBeUndefined();
  });

  it('an open session that is neither Active nor in History: missing, then ended when it went missing', async () => {
    const s = scenario();
    const grant = await activate(s);
    const { sessions, chat } = parts(s);
    const since = s.clock.now().toISOString();
    await sessions.save(
      {
        id: 'alice-ghost',
        version: 1,
        status: 'active',
        firstSeenAt: since,
        owner: ALICE_ARN,
        node: { id: RASPI_NODE },
        document: 'shell',
        startedAt: since,
        grantId: grant.id,
        startPostedAt: since,
      },
      0,
    );
    s.clock.advance(MINUTE);
    const missingAt = s.clock.now().toISOString();
    await reconcileSessions(s.deps);
    expect(await sessions.get('alice-ghost')).toMatchObject({ status: 'active', missingSince: missingAt });
    s.clock.advance(VANISH_AFTER_MS - MINUTE);
    await reconcileSessions(s.deps);
    expect(await sessions.get('alice-ghost')).toMatchObject({ status: 'active', missingSince: missingAt });

    s.clock.advance(MINUTE);
    await reconcileSessions(s.deps);
    expect(await sessions.get('alice-ghost')).toMatchObject({
      status: 'ended',
      endedAt: missingAt,
      end: { kind: 'vanished' },
    });
    expect(chat.summaries[0]?.view.ending).toEqual({ kind: 'unknown' });
  });

  it('a Session Manager failure is logged and left to the next sweep; it never fails the sweep', async () => {
    const s = scenario();
    await activate(s);
    s.clock.advance(MINUTE);
    await open(s);
    s.account.failNext('activeSessions', 'ThrottlingException');
    expect(await reconcileSessions(s.deps)).toMatchObject({ failures: 1, discovered: 0 });
    expect(await parts(s).sessions.listWatched(HOME)).toEqual([]);
    expect(await reconcileSessions(s.deps)).toMatchObject({ failures: 0, discovered: 1 });
  });
});

describe('reconcileSessions: every account and region on its own', () => {
  const ALICE_IN_FACTORY = `arn:aws:sts::${FACTORY.accountId}:assumed-role/keyturn-u0alice/alice`;

  /** alice holds a grant on factory-raspi (account B) and opens a session on its node there. */
  async function aliceInFactory() {
    const o = organisation();
    const grant = await activate(o, { user: 'U0ALICE', text: 'factory-raspi 1h replace sensor' });
    o.clock.advance(MINUTE);
    const opened = await o.factory.startSession(alice, FACTORY_NODE);
    if (!opened.ok) throw new Error(opened.reason);
    return { o, grant, id: opened.session.id };
  }

  it('records a session in its own place, matched to the grant given there, with its own History cursor', async () => {
    const { o, grant, id } = await aliceInFactory();
    const { sessions, chat } = parts(o);
    o.reach(FRANKFURT.accountId, 'unreachable');

    await sweep(o.deps);
    expect(await sessions.get(id)).toMatchObject({
      account: FACTORY.accountId,
      region: FACTORY.region,
      owner: ALICE_IN_FACTORY,
      node: { id: FACTORY_NODE, name: 'factory-1' },
      grantId: grant.id,
    });
    expect(chat.started.map((p) => p.view.session.id)).toEqual([id]);
    expect(chat.unmatched).toEqual([]);
    // Each place has its cursor; the unreachable one's did not move.
    expect(await sessions.historyCursor(HOME)).toBe(o.clock.now().toISOString());
    expect(await sessions.historyCursor(FACTORY)).toBe(o.clock.now().toISOString());
    expect(await sessions.historyCursor(FRANKFURT)).toBeUndefined();
    expect((await sessions.listWatched(FACTORY)).map((s) => s.id)).toEqual([id]);
    expect(await sessions.listWatched(HOME)).toEqual([]);
  });

  it("an account that cannot be read leaves its sessions as they were: another place's reconcile never ends them", async () => {
    const { o, id } = await aliceInFactory();
    const { sessions } = parts(o);
    await sweep(o.deps);
    o.reach(FACTORY.accountId, 'unreachable');
    for (let minute = 0; minute < 2 * (VANISH_AFTER_MS / MINUTE); minute++) {
      o.clock.advance(MINUTE);
      await reconcileSessions(o.deps, { place: HOME });
      await reconcileSessions(o.deps, { place: FRANKFURT });
      expect(await reconcileSessions(o.deps, { place: FACTORY })).toMatchObject({ failures: 1 });
    }
    const stored = await sessions.get(id);
    expect(stored).toMatchObject({ status: 'active' });
    expect(stored?.missingSince).toBeUndefined();
  });

  it("terminates a session outliving its grant through the session's own place's fleet", async () => {
    const { o, grant, id } = await aliceInFactory();
    await sweep(o.deps);
    // The revoke's Owner-filtered look finds nothing (as in the single-account case above).
    const places = o.deps.aws;
    const blind = new Proxy(o.factory, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop !== 'activeSessions') return value.bind(target);
        return (filter?: { owner?: string }) =>
          filter?.owner ? Promise.resolve([]) : target.activeSessions();
      },
    });
    o.deps.aws = {
      ...places,
      fleet: (place) => (place.accountId === FACTORY.accountId ? blind : places.fleet(place)),
    };
    at(o, grant.expiresAt as string);
    expect((await sweep(o.deps)).ended).toBe(1);
    expect(await o.factory.activeSessions()).toEqual([]);
    expect(o.factory.sessionHistory().map((h) => [h.id, h.status])).toEqual([[id, 'Terminated']]);
    expect(o.account.calls.filter((c) => c.op === 'terminateSession')).toEqual([]);
  });
});
