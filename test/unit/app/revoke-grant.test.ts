import type { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { releaseGrant, revokeByApprover } from '../../../src/app/end-grant';
import { requestAccess } from '../../../src/app/request-access';
import { REVOKE_LEASE_MS, revokeGrant } from '../../../src/app/revoke-grant';
import { sweep } from '../../../src/app/sweep';
import type { Grant } from '../../../src/domain/grant';
import type { Principal } from '../../../src/domain/principal';
import type { Target } from '../../../src/domain/target';
import { AccessControlError } from '../../../src/ports/access-control';
import type { GrantStore } from '../../../src/ports/grant-store';
import { onePlace, type MemoryGrantStore, prodRaspi } from '../../support/fakes';
import {
  activate,
  alice,
  at,
  bob,
  callsAbout,
  dave,
  drain,
  keyturnPolicies,
  notices,
  policyArnOf,
  RASPI_NODE,
  type Scenario,
  STAGING_NODE,
  scenario,
  stagingWeb,
  stored,
} from '../../support/grant-scenarios';

const EXPIRES_AT = '2026-11-23T11:00:00Z';

function ops(account: SimulatedAccount, from = 0): string[] {
  return account.calls.slice(from).map((c) => c.op);
}

async function openSession(s: Scenario, principal: Principal, nodeId: string): Promise<string> {
  const started = await s.account.startSession(principal, nodeId);
  if (!started.ok)
    throw new Error(`${principal.name} could not start a session on ${nodeId}: ${started.reason}`);
  return started.session.id;
}

/** A store whose save throws once (a crash) when the grant reaches `status`, before anything is written. */
function crashingOnSave(grants: MemoryGrantStore, status: Grant['status']): GrantStore {
  let crashed = false;
  return new Proxy(grants, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop !== 'save') return value.bind(target);
      return async (next: Grant, expectedVersion: number) => {
        if (!crashed && next.status === status) {
          crashed = true;
          throw new Error('worker crashed before writing the final status');
        }
        return target.save(next, expectedVersion);
      };
    },
  });
}

/**
 * IAM that performs the real DeletePolicy, then the caller's process dies before hearing back (once):
 * the call never returns, so nothing after it runs and no error handler sees it, as in a real crash.
 */
function crashingAfterDelete(account: SimulatedAccount): SimulatedAccount {
  let crashed = false;
  return new Proxy(account, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop !== 'deletePolicy') return value.bind(target);
      return async (arn: string) => {
        const answer = await target.deletePolicy(arn);
        if (!crashed) {
          crashed = true;
          return new Promise<never>(() => {});
        }
        return answer;
      };
    },
  });
}

/** Starts a sweep that will die mid-way and waits until it has got as far as it ever will. */
async function sweepThatDies(s: Scenario, died: () => boolean): Promise<void> {
  void sweep(s.deps);
  for (let i = 0; i < 1_000 && !died(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!died()) throw new Error('the sweep never reached the crash');
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('revokeGrant', () => {
  it('detaches and deletes the policy, moves the grant to its ending status last, and queues one announcement', async () => {
    const s = scenario();
    await activate(s);
    at(s, '2026-11-23T10:30:00Z');
    expect(await releaseGrant(s.deps, { user: 'U0ALICE' })).toMatchObject({ outcome: 'ending' });
    expect(s.queue.jobs).toEqual([{ kind: 'revoke-grant', grantId: 'g1' }]);
    s.queue.jobs.length = 0;
    const before = s.account.calls.length;

    expect(await revokeGrant(s.deps, 'g1')).toBe('ended');

    // The IAM layer and the session layer run side by side; with no session open, no node is looked up.
    const calls = ops(s.account, before);
    expect([...calls].sort()).toEqual(['activeSessions', 'deletePolicy', 'detachPolicy']);
    expect(calls.indexOf('detachPolicy')).toBeLessThan(calls.indexOf('deletePolicy'));
    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({ status: 'released', sessionsEnded: 0 });
    expect(grant.revokeLease).toBeUndefined();
    expect(grant.history.at(-1)).toEqual({
      at: '2026-11-23T10:30:00Z',
      from: 'active',
      to: 'released',
      by: 'U0ALICE',
      note: '0 sessions ended',
    });
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
    expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: grant.history.length - 1 }]);

    const after = s.account.calls.length;
    expect(await revokeGrant(s.deps, 'g1')).toBe('skipped');
    expect(s.account.calls.length).toBe(after);
  });

  it('lets one of several concurrent revokes (a redelivered job, a sweep) do the work; the others are busy', async () => {
    const s = scenario();
    await activate(s);
    await releaseGrant(s.deps, { user: 'U0ALICE' });
    s.queue.jobs.length = 0;
    const arn = policyArnOf(s, 'g1');

    const outcomes = await Promise.all([
      revokeGrant(s.deps, 'g1'),
      revokeGrant(s.deps, 'g1'),
      revokeGrant(s.deps, 'g1'),
    ]);

    expect(outcomes.sort()).toEqual(['busy', 'busy', 'ended']);
    expect(callsAbout(s, 'detachPolicy', arn)).toBe(1);
    expect(callsAbout(s, 'deletePolicy', arn)).toBe(1);
    const grant = await stored(s, 'g1');
    expect(grant.history.filter((h) => h.to === 'released')).toHaveLength(1);
    expect(s.queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: grant.history.length - 1 }]);
  });

  it('skips an active grant nobody asked to end, without touching IAM', async () => {
    const s = scenario();
    const active = await activate(s);
    const before = s.account.calls.length;

    expect(await revokeGrant(s.deps, 'g1')).toBe('skipped');

    expect(s.account.calls.length).toBe(before);
    expect(await stored(s, 'g1')).toEqual(active);
    expect(s.account.attachedPolicies(alice)).toEqual([policyArnOf(s, 'g1')]);
  });
});

describe('revokeGrant: a crash mid-revoke is finished by the next sweep', () => {
  it('IAM failing between detach and delete: the lease is given back and the next sweep finishes at once', async () => {
    const s = scenario();
    await activate(s);
    const arn = policyArnOf(s, 'g1');
    s.account.failNext('deletePolicy', 'ServiceFailure');

    at(s, EXPIRES_AT);
    expect(await sweep(s.deps)).toMatchObject({ ended: 0, failures: 1 });
    const failed = await stored(s, 'g1');
    expect(failed).toMatchObject({ status: 'active', ending: { status: 'expired', by: 'keyturn' } });
    expect(failed.revokeLease).toBeUndefined();
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([arn]);

    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant.status).toBe('expired');
    expect(grant.history.filter((h) => h.to === 'expired')).toHaveLength(1);
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
    expect(callsAbout(s, 'deletePolicy', arn)).toBe(2);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
  });

  it('a crash between detach and delete: a sweep inside the lease does not re-run it, the first one after does', async () => {
    const s = scenario();
    await activate(s);
    const arn = policyArnOf(s, 'g1');
    const real = s.deps.aws;
    // The process dies while DeletePolicy is in flight, before it is sent: it never reaches IAM.
    s.deps.aws = onePlace({
      fleet: s.account,
      access: new Proxy(s.account, {
        get(target, prop) {
          const value = Reflect.get(target, prop);
          if (typeof value !== 'function') return value;
          if (prop === 'deletePolicy') return () => new Promise<never>(() => {});
          return value.bind(target);
        },
      }),
    });

    at(s, EXPIRES_AT);
    await sweepThatDies(s, () => s.account.attachedPolicies(alice).length === 0);
    s.deps.aws = real; // a new process
    const crashed = await stored(s, 'g1');
    expect(crashed).toMatchObject({
      status: 'active',
      ending: { status: 'expired', by: 'keyturn' },
      revokeLease: '2026-11-23T11:02:00.000Z',
    });
    expect(keyturnPolicies(s)).toEqual([arn]);

    at(s, '2026-11-23T11:01:59Z');
    const inside = s.account.calls.length;
    expect(await sweep(s.deps)).toMatchObject({ ended: 0, failures: 0 });
    expect(await revokeGrant(s.deps, 'g1')).toBe('busy');
    s.queue.jobs.push({ kind: 'revoke-grant', grantId: 'g1' }); // a redelivered revoke job
    await drain(s);
    expect(ops(s.account, inside)).not.toContain('detachPolicy');
    expect(ops(s.account, inside)).not.toContain('deletePolicy');
    expect(s.chat.notices.filter((n) => n.notice.kind === 'ended')).toEqual([]);

    at(s, '2026-11-23T11:02:00Z');
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant.status).toBe('expired');
    expect(grant.history.filter((h) => h.to === 'expired')).toHaveLength(1);
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
    expect(callsAbout(s, 'deletePolicy', arn)).toBe(1);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
  });

  it.each([
    ['after DeletePolicy answered', 'access'],
    ['after the sessions were terminated, before the status write', 'store'],
  ] as const)('crash %s: the next sweep completes, nothing is left attached or open', async (_, where) => {
    const s = scenario();
    await activate(s);
    const arn = policyArnOf(s, 'g1');
    const session = await openSession(s, alice, RASPI_NODE);
    at(s, EXPIRES_AT);
    if (where === 'access') {
      s.deps.aws = onePlace({ access: crashingAfterDelete(s.account), fleet: s.account });
      await sweepThatDies(s, () => keyturnPolicies(s).length === 0);
      s.deps.aws = onePlace({ access: s.account, fleet: s.account }); // a new process
    } else {
      s.deps.grants = crashingOnSave(s.grants, 'expired');
      expect(await sweep(s.deps)).toMatchObject({ ended: 0, failures: 1 });
    }
    expect(keyturnPolicies(s)).toEqual([]);
    expect((await stored(s, 'g1')).status).toBe('active');

    // Inside the lease nothing runs twice.
    s.clock.advance(REVOKE_LEASE_MS - 10_000);
    const inside = s.account.calls.length;
    expect((await sweep(s.deps)).ended).toBe(0);
    expect(ops(s.account, inside)).not.toContain('deletePolicy');

    s.clock.advance(10_000);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant.status).toBe('expired');
    expect(grant.history.filter((h) => h.to === 'expired')).toHaveLength(1);
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
    expect(callsAbout(s, 'deletePolicy', arn)).toBe(2);
    expect(s.account.sessionHistory().map((h) => h.id)).toEqual([session]);
    expect(await s.account.activeSessions()).toEqual([]);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
  });
});

describe('revokeGrant: session termination', () => {
  const twoFleets = { 'prod-raspi': prodRaspi, 'staging-web': stagingWeb };

  it.each([
    ['an IAM user', 'U0ALICE', alice],
    ['an IAM role', 'U0DAVE', dave],
  ] as const)(
    "terminates %s's open sessions on the target's nodes, not others' or on other fleets",
    async (_, user, principal) => {
      const s = scenario({ targets: twoFleets });
      await activate(s, { user, text: 'prod-raspi 1h replace sensor' });
      await activate(s, { user, text: 'staging-web 2h check deploy' });
      await activate(s, { user: 'U0BOB', text: 'prod-raspi 2h watch logs' });
      const mine = [await openSession(s, principal, RASPI_NODE), await openSession(s, principal, RASPI_NODE)];
      const mineElsewhere = await openSession(s, principal, STAGING_NODE);
      const bobs = await openSession(s, bob, RASPI_NODE);
      const before = s.account.calls.length;

      at(s, EXPIRES_AT);
      expect((await sweep(s.deps)).ended).toBe(1);

      const terminated = s.account.calls
        .slice(before)
        .filter((c) => c.op === 'terminateSession')
        .map((c) => c.args[0]);
      expect(terminated.sort()).toEqual([...mine].sort());
      expect(s.account.sessionHistory().map((h) => h.id)).toEqual(mine);
      expect(s.account.sessionHistory().every((h) => h.status === 'Terminated')).toBe(true);
      expect((await s.account.activeSessions()).map((x) => x.id).sort()).toEqual(
        [mineElsewhere, bobs].sort(),
      );
      const grant = await stored(s, 'g1');
      expect(grant).toMatchObject({ status: 'expired', sessionsEnded: 2 });
      expect(grant.history.at(-1)?.note).toBe('2 sessions ended');
      expect(s.chat.audits).toEqual([]);
    },
  );

  it("lists only the person's own sessions (DescribeSessions Owner filter on their access role's session) and a sweep reads each target's nodes once", async () => {
    const s = scenario();
    for (const user of ['U0ALICE', 'U0BOB'])
      await activate(s, { user, text: 'prod-raspi 1h replace sensor' });
    const alices = await openSession(s, alice, RASPI_NODE);
    const bobs = await openSession(s, bob, RASPI_NODE);
    const filters: unknown[] = [];
    const account = s.account;
    const fleet = new Proxy(account, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop !== 'activeSessions') return value.bind(target);
        return (filter?: { owner?: string }) => {
          filters.push(filter);
          return target.activeSessions();
        };
      },
    });
    const before = account.calls.length;

    at(s, EXPIRES_AT);
    expect((await sweep({ ...s.deps, aws: onePlace({ access: s.account, fleet }) })).ended).toBe(2);

    // Each person's access role admits one session name (theirs), so that session's Owner names them alone.
    const arn = (name: string) =>
      `arn:aws:sts::${s.config.aws.accountId}:assumed-role/keyturn-u0${name}/${name}`;
    // Found, then confirmed ended, per grant: never the whole account's list.
    expect(filters.filter((f) => JSON.stringify(f) === JSON.stringify({ owner: arn('alice') }))).toHaveLength(
      2,
    );
    expect(filters.filter((f) => JSON.stringify(f) === JSON.stringify({ owner: arn('bob') }))).toHaveLength(
      2,
    );
    expect(ops(account, before).filter((op) => op === 'nodesTagged')).toHaveLength(1);
    expect(
      s.account
        .sessionHistory()
        .map((h) => h.id)
        .sort(),
    ).toEqual([alices, bobs].sort());
  });

  it('reports a session that refuses termination to the audit channel, and still ends the grant', async () => {
    const s = scenario();
    await activate(s);
    const ends = await openSession(s, alice, RASPI_NODE);
    const stuck = await openSession(s, alice, RASPI_NODE);
    s.account.refuseTermination(stuck);

    at(s, EXPIRES_AT);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });
    await drain(s);

    const grant = await stored(s, 'g1');
    expect(grant).toMatchObject({ status: 'expired', sessionsEnded: 1 });
    expect(s.account.sessionHistory().map((h) => h.id)).toEqual([ends]);
    expect(s.chat.audits).toEqual([
      {
        channel: 'C0AUDIT',
        event: expect.objectContaining({
          kind: 'sessions-not-ended',
          grant: expect.objectContaining({ id: 'g1' }),
          sessionIds: [stuck],
        }),
      },
    ]);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
    // It was confirmed with DescribeSessions after waiting, not taken on TerminateSession's word.
    expect(s.clock.slept).toEqual(expect.arrayContaining([1_000, 3_000]));

    at(s, '2026-11-23T11:10:00Z');
    await sweep(s.deps);
    expect(s.chat.audits).toHaveLength(1);
  });

  it('reports a stuck session once even when the revoke is retried after a crash', async () => {
    const s = scenario();
    await activate(s);
    const stuck = await openSession(s, alice, RASPI_NODE);
    s.account.refuseTermination(stuck);
    s.deps.grants = crashingOnSave(s.grants, 'expired');

    at(s, EXPIRES_AT);
    expect(await sweep(s.deps)).toMatchObject({ ended: 0, failures: 1 });
    expect(s.chat.audits).toHaveLength(1);

    s.clock.advance(REVOKE_LEASE_MS);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });

    expect(s.chat.audits.map((a) => a.event.kind)).toEqual(['sessions-not-ended']);
    expect((await stored(s, 'g1')).status).toBe('expired');
  });

  it('terminates open sessions even when IAM refuses the detach, and finishes the revoke on a later sweep', async () => {
    const s = scenario();
    await activate(s);
    const session = await openSession(s, alice, RASPI_NODE);
    s.account.failNext('detachPolicy', 'Throttling');

    at(s, EXPIRES_AT);
    expect(await sweep(s.deps)).toMatchObject({ ended: 0, failures: 1 });
    // The policy's removal failed, but an open shell must not outlive the grant because of it.
    expect(await s.account.activeSessions()).toEqual([]);
    expect(s.account.sessionHistory().map((h) => h.id)).toEqual([session]);
    expect((await stored(s, 'g1')).status).toBe('active');
    expect(s.account.attachedPolicies(alice)).toEqual([policyArnOf(s, 'g1')]);

    s.clock.advance(REVOKE_LEASE_MS);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });
    expect(await stored(s, 'g1')).toMatchObject({ status: 'expired' });
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
  });

  it('terminates sessions of a grant an approver revokes early, when IAM is refusing', async () => {
    const s = scenario();
    await activate(s);
    await openSession(s, alice, RASPI_NODE);
    at(s, '2026-11-23T10:20:00Z');
    await revokeByApprover(s.deps, { user: 'U0CAROL', grantId: 'g1', reason: 'wrong fleet' });
    s.queue.jobs.length = 0;
    s.account.failNext('detachPolicy', 'ServiceFailure');

    await expect(revokeGrant(s.deps, 'g1')).rejects.toThrow(AccessControlError);

    expect(await s.account.activeSessions()).toEqual([]);
  });
});

describe('revokeGrant: Run As', () => {
  const pi = (t: Target): Target => ({ ...t, runAs: 'pi-ops' });
  const labRaspi: Target = { ...prodRaspi, name: 'lab-raspi', tags: { Fleet: 'lab-raspi' } };

  it('tags the principal at activation and clears the tag when the grant ends', async () => {
    const s = scenario({ targets: { 'prod-raspi': pi(prodRaspi) } });
    await activate(s);
    expect(s.account.runAsTag(alice)).toBe('pi-ops');
    expect((await stored(s, 'g1')).runAsSet).toBe('pi-ops');

    at(s, EXPIRES_AT);
    await sweep(s.deps);

    expect((await stored(s, 'g1')).status).toBe('expired');
    expect(s.account.runAsTag(alice)).toBeUndefined();
  });

  it("keeps the tag while another of the principal's active grants set the same value; others' grants do not count", async () => {
    const s = scenario({ targets: { 'prod-raspi': pi(prodRaspi), 'lab-raspi': pi(labRaspi) } });
    await activate(s, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
    await activate(s, { user: 'U0ALICE', text: 'lab-raspi 2h flash images' });
    await activate(s, { user: 'U0BOB', text: 'prod-raspi 3h watch logs' });

    at(s, '2026-11-23T11:00:00Z');
    await sweep(s.deps);
    expect((await stored(s, 'g1')).status).toBe('expired');
    expect(s.account.runAsTag(alice)).toBe('pi-ops');

    at(s, '2026-11-23T12:00:00Z');
    await sweep(s.deps);
    expect((await stored(s, 'g2')).status).toBe('expired');
    expect(s.account.runAsTag(alice)).toBeUndefined();
    expect(s.account.runAsTag(bob)).toBe('pi-ops');

    at(s, '2026-11-23T13:00:00Z');
    await sweep(s.deps);
    expect(s.account.runAsTag(bob)).toBeUndefined();
  });

  it('refuses at request time a second grant that wants a different Run As user', async () => {
    const s = scenario({
      targets: { 'prod-raspi': pi(prodRaspi), 'staging-web': { ...stagingWeb, runAs: 'web-deploy' } },
    });
    await activate(s);
    s.queue.jobs.length = 0;

    const refused = await requestAccess(s.deps, { user: 'U0ALICE', text: 'staging-web 1h deploy' });

    expect(refused).toMatchObject({
      outcome: 'refused',
      refusal: { reason: 'run-as-conflict', existing: { id: 'g1' }, runAs: 'pi-ops', wanted: 'web-deploy' },
    });
    expect(s.grants.items.size).toBe(1);
    expect(s.queue.jobs).toEqual([]);

    // Once the first grant has ended, the same request goes through.
    at(s, EXPIRES_AT);
    await sweep(s.deps);
    expect(await requestAccess(s.deps, { user: 'U0ALICE', text: 'staging-web 1h deploy' })).toMatchObject({
      outcome: 'requested',
    });
  });
});
