import type { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { releaseGrant } from '../../../src/app/end-grant';
import { REVOKE_LEASE_MS } from '../../../src/app/revoke-grant';
import { requestAccess } from '../../../src/app/request-access';
import {
  REVOKE_BUDGET_MS,
  REVOKE_CONCURRENCY,
  SWEEP_DEADLINE_MS,
  type SweepReport,
  sweep,
} from '../../../src/app/sweep';
import type { Grant } from '../../../src/domain/grant';
import { AccessControlError } from '../../../src/ports/access-control';
import type { AuditEvent } from '../../../src/ports/chat';
import { type MemoryAnomalyLog, onePlace, prodRaspi } from '../../support/fakes';
import { FACTORY, FRANKFURT, IAM_OPS, type Organisation, organisation } from '../../support/places';
import {
  activate,
  alice,
  approve,
  at,
  bob,
  callsAbout,
  dave,
  drain,
  keyturnPolicies,
  MINUTE,
  notices,
  policyArnOf,
  RASPI_NODE,
  type Scenario,
  scenario,
  stagingWeb,
  stored,
} from '../../support/grant-scenarios';

/** A 1h grant activated at T0 (10:00:00Z) expires at 11:00:00Z and is warned from 10:50:00Z. */
const EXPIRES_AT = '2026-11-23T11:00:00Z';

describe('sweep: time travel with the injected clock', () => {
  it('warns the requester once, warnBeforeMinutes ahead of expiry, and not earlier', async () => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;

    at(s, '2026-11-23T10:49:59Z');
    expect((await sweep(s.deps)).warned).toBe(0);
    at(s, '2026-11-23T10:50:00Z');
    expect((await sweep(s.deps)).warned).toBe(1);
    for (const later of ['2026-11-23T10:51:00Z', '2026-11-23T10:59:59Z']) {
      at(s, later);
      expect((await sweep(s.deps)).warned).toBe(0);
    }

    expect(s.chat.notices).toHaveLength(1);
    expect(s.chat.notices[0]).toMatchObject({
      user: 'U0ALICE',
      notice: { kind: 'warning', grant: { id: 'g1', expiresAt: EXPIRES_AT }, target: { name: 'prod-raspi' } },
    });
  });

  it('warns each grant by its own target’s warnBeforeMinutes', async () => {
    const s = scenario({
      targets: { 'prod-raspi': prodRaspi, 'staging-web': { ...stagingWeb, warnBeforeMinutes: 30 } },
    });
    await activate(s, { text: 'prod-raspi 1h replace sensor' });
    await activate(s, { text: 'staging-web 1h check deploy' });
    s.chat.notices.length = 0;

    at(s, '2026-11-23T10:29:59Z');
    expect((await sweep(s.deps)).warned).toBe(0);
    at(s, '2026-11-23T10:30:00Z');
    expect((await sweep(s.deps)).warned).toBe(1);
    expect(notices(s, 'warning').map((n) => n.grant.id)).toEqual(['g2']);
    at(s, '2026-11-23T10:49:59Z');
    expect((await sweep(s.deps)).warned).toBe(0);
    at(s, '2026-11-23T10:50:00Z');
    expect((await sweep(s.deps)).warned).toBe(1);
    expect(notices(s, 'warning').map((n) => n.grant.id)).toEqual(['g2', 'g1']);
  });

  it('does not warn a grant whose ending is already under way', async () => {
    const s = scenario();
    await activate(s);
    s.chat.notices.length = 0;
    at(s, '2026-11-23T10:49:00Z');
    await releaseGrant(s.deps, { user: 'U0ALICE' });
    // The revoke fails twice, so the grant is still active, and ending, inside the warning window.
    s.account.failNext('detachPolicy', 'ServiceFailure');
    s.account.failNext('detachPolicy', 'ServiceFailure');
    expect((await sweep(s.deps)).failures).toBe(1);

    at(s, '2026-11-23T10:50:00Z');
    expect(await sweep(s.deps)).toMatchObject({ warned: 0, ended: 0, failures: 1 });
    expect((await stored(s, 'g1')).status).toBe('active');
    expect(notices(s, 'warning')).toEqual([]);
  });

  it('revokes an expired grant within one sweep: detached, deleted, expired, announced once', async () => {
    const s = scenario();
    await activate(s);
    const arn = policyArnOf(s, 'g1');

    at(s, '2026-11-23T10:59:59Z');
    expect((await sweep(s.deps)).ended).toBe(0);
    expect(s.account.attachedPolicies(alice)).toEqual([arn]);

    at(s, EXPIRES_AT);
    expect(await sweep(s.deps)).toMatchObject({ ended: 1, failures: 0 });

    const grant = await stored(s, 'g1');
    expect(grant.status).toBe('expired');
    expect(grant.ending).toMatchObject({ status: 'expired', by: 'keyturn', at: EXPIRES_AT });
    expect(grant.history.at(-1)).toMatchObject({ from: 'active', to: 'expired', by: 'keyturn' });
    expect(grant.revokeLease).toBeUndefined();
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);

    await drain(s);
    expect(notices(s, 'ended', 'g1')).toHaveLength(1);
    expect(notices(s, 'ended', 'g1')[0]?.grant).toMatchObject({ status: 'expired' });

    // Nothing left to do on the next minute's sweep.
    at(s, '2026-11-23T11:01:00Z');
    const callsBefore = s.account.calls.length;
    expect(await sweep(s.deps)).toMatchObject({ ended: 0, failures: 0 });
    expect(s.account.calls.slice(callsBefore).map((c) => c.op)).not.toContain('detachPolicy');
  });

  it('lets StartSession through until expiry and denies it after (policy evaluated by iam-simulate)', async () => {
    const s = scenario();
    await activate(s);

    at(s, '2026-11-23T10:59:59Z');
    expect(await s.account.startSession(alice, RASPI_NODE)).toMatchObject({ ok: true });
    // The expiry is in the policy itself: access ends on time even before any sweep runs.
    at(s, EXPIRES_AT);
    expect(await s.account.startSession(alice, RASPI_NODE)).toEqual({ ok: false, reason: 'access-denied' });
    await sweep(s.deps);
    expect(await s.account.startSession(alice, RASPI_NODE)).toEqual({ ok: false, reason: 'access-denied' });
    expect(await s.account.evaluate(alice, RASPI_NODE, '2026-11-23T10:30:00Z')).toBe('denied');
  });

  it('lapses a request nobody decided within approvalTimeout, per target, and not before', async () => {
    const s = scenario({
      targets: { 'prod-raspi': prodRaspi, 'staging-web': { ...stagingWeb, approvalTimeoutMinutes: 15 } },
    });
    await requestAccess(s.deps, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
    await requestAccess(s.deps, { user: 'U0ALICE', text: 'staging-web 1h deploy check' });
    await drain(s);

    at(s, '2026-11-23T10:14:59Z');
    expect((await sweep(s.deps)).lapsed).toBe(0);
    at(s, '2026-11-23T10:15:00Z');
    expect((await sweep(s.deps)).lapsed).toBe(1);
    expect((await stored(s, 'g2')).status).toBe('lapsed');
    expect((await stored(s, 'g1')).status).toBe('pending');

    at(s, '2026-11-23T10:59:59Z');
    expect((await sweep(s.deps)).lapsed).toBe(0);
    at(s, '2026-11-23T11:00:00Z');
    expect((await sweep(s.deps)).lapsed).toBe(1);
    at(s, '2026-11-23T11:01:00Z');
    expect((await sweep(s.deps)).lapsed).toBe(0);

    const g1 = await stored(s, 'g1');
    expect(g1.status).toBe('lapsed');
    expect(g1.history.at(-1)).toMatchObject({ from: 'pending', to: 'lapsed', by: 'keyturn' });
    await drain(s);
    expect(notices(s, 'lapsed').map((n) => n.grant.id)).toEqual(['g2', 'g1']);
    expect(s.account.calls.map((c) => c.op)).not.toContain('createPolicy');
  });
});

describe('sweep: re-driving work whose queued job was lost', () => {
  it('queues the apply of an approved grant again once it has waited more than 2 minutes', async () => {
    const s = scenario();
    await approve(s);
    s.queue.jobs.length = 0; // the apply job was lost

    at(s, '2026-11-23T10:02:00Z');
    expect((await sweep(s.deps)).redriven).toBe(0);
    expect(s.queue.jobs).toEqual([]);

    at(s, '2026-11-23T10:02:01Z');
    expect((await sweep(s.deps)).redriven).toBe(1);
    expect(s.queue.jobs).toEqual([{ kind: 'apply-grant', grantId: 'g1' }]);

    await drain(s);
    expect(await stored(s, 'g1')).toMatchObject({ status: 'active', expiresAt: EXPIRES_AT });
    expect(notices(s, 'ready', 'g1')).toHaveLength(1);
    at(s, '2026-11-23T10:03:00Z');
    expect((await sweep(s.deps)).redriven).toBe(0);
  });
});

describe("sweep: Lambda's 55 s timeout", () => {
  it('starts no revoke once the sweep has used its time budget; the next sweep ends those grants', async () => {
    const s = scenario();
    await activate(s, { user: 'U0ALICE' });
    await activate(s, { user: 'U0BOB' });
    at(s, EXPIRES_AT);
    // Listing the due grants takes the whole budget (a slow table, a large backlog before them).
    const grants = new Proxy(s.grants, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop !== 'listByStatus') return value.bind(target);
        return async (...args: Parameters<typeof target.listByStatus>) => {
          const listed = await target.listByStatus(...args);
          if (args[0] === 'active' && args[1]?.dueBy === EXPIRES_AT) s.clock.advance(REVOKE_BUDGET_MS);
          return listed;
        };
      },
    });

    expect((await sweep({ ...s.deps, grants })).ended).toBe(0);
    expect(s.account.attachedPolicies(alice)).toHaveLength(1);
    expect((await stored(s, 'g1')).status).toBe('active');

    at(s, '2026-11-23T11:01:00Z');
    expect((await sweep(s.deps)).ended).toBe(2);
    expect(s.account.attachedPolicies(alice)).toEqual([]);
    expect(s.account.attachedPolicies(bob)).toEqual([]);
    expect(keyturnPolicies(s)).toEqual([]);
  });
});

describe('sweep: a grant that changes after the sweep listed it', () => {
  it('is not ended when an extension moved its expiry between the listing and its turn', async () => {
    const s = scenario();
    await activate(s, { user: 'U0ALICE' });
    at(s, EXPIRES_AT);
    const grants = new Proxy(s.grants, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop !== 'listByStatus') return value.bind(target);
        return async (...args: Parameters<typeof target.listByStatus>) => {
          const listed = await target.listByStatus(...args);
          if (args[0] === 'active' && args[1]?.dueBy === EXPIRES_AT) {
            // The worker applies an approved extension right after the sweep's query.
            const current = (await target.get('g1')) as Grant;
            await target.save(
              { ...current, expiresAt: '2026-11-23T12:00:00Z', version: current.version + 1 },
              current.version,
            );
          }
          return listed;
        };
      },
    });

    expect((await sweep({ ...s.deps, grants })).ended).toBe(0);
    expect(await stored(s, 'g1')).toMatchObject({ status: 'active', expiresAt: '2026-11-23T12:00:00Z' });
    expect((await stored(s, 'g1')).ending).toBeUndefined();
    expect(s.account.attachedPolicies(alice)).toHaveLength(1);
  });
});

describe("sweep: Lambda's 55 s timeout, warnings", () => {
  it('sends no warning once the sweep is past its deadline; the next sweep sends it, once', async () => {
    const s = scenario();
    await activate(s, { user: 'U0ALICE' });
    s.chat.notices.length = 0;
    at(s, '2026-11-23T10:50:00Z');
    let slow = true;
    const grants = new Proxy(s.grants, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop !== 'listByStatus') return value.bind(target);
        return async (...args: Parameters<typeof target.listByStatus>) => {
          const listed = await target.listByStatus(...args);
          // The warning window's listing comes back after the deadline (a huge window, a slow table).
          if (slow && args[0] === 'active' && args[1]?.dueBy === '2026-11-23T11:00:00Z')
            s.clock.advance(SWEEP_DEADLINE_MS);
          return listed;
        };
      },
    });

    expect((await sweep({ ...s.deps, grants })).warned).toBe(0);
    expect(notices(s, 'warning', 'g1')).toHaveLength(0);

    slow = false;
    at(s, '2026-11-23T10:51:00Z');
    expect((await sweep({ ...s.deps, grants })).warned).toBe(1);
    expect((await sweep({ ...s.deps, grants })).warned).toBe(0);
    expect(notices(s, 'warning', 'g1')).toHaveLength(1);
  });
});

describe('sweep: two sweepers at once', () => {
  async function threeGrants(s: Scenario) {
    await activate(s, { user: 'U0ALICE' });
    await activate(s, { user: 'U0BOB' });
    await activate(s, { user: 'U0DAVE' });
    s.chat.notices.length = 0;
    s.account.calls.length = 0;
  }

  it('revokes each grant once and sends one message each', async () => {
    const s = scenario();
    await threeGrants(s);

    at(s, '2026-11-23T10:50:00Z');
    const warnings = await Promise.all([sweep(s.deps), sweep(s.deps)]);
    expect(warnings.reduce((n, r) => n + r.warned, 0)).toBe(3);

    at(s, EXPIRES_AT);
    const reports = await Promise.all([sweep(s.deps), sweep(s.deps)]);
    expect(reports.reduce((n, r) => n + r.ended, 0)).toBe(3);
    expect(reports.reduce((n, r) => n + r.failures, 0)).toBe(0);
    await drain(s);

    for (const [id, principal] of [
      ['g1', alice],
      ['g2', bob],
      ['g3', dave],
    ] as const) {
      const arn = policyArnOf(s, id);
      expect(callsAbout(s, 'detachPolicy', arn)).toBe(1);
      expect(callsAbout(s, 'deletePolicy', arn)).toBe(1);
      const grant = await stored(s, id);
      expect(grant.status).toBe('expired');
      expect(grant.history.filter((h) => h.event === 'ending-requested')).toHaveLength(1);
      expect(grant.history.filter((h) => h.to === 'expired')).toHaveLength(1);
      expect(notices(s, 'warning', id)).toHaveLength(1);
      expect(notices(s, 'ended', id)).toHaveLength(1);
      expect(s.account.attachedPolicies(principal)).toEqual([]);
    }
    expect(s.chat.notices).toHaveLength(6);
    expect(keyturnPolicies(s)).toEqual([]);
  });
});

/** A small seeded generator (mulberry32): the same throttled calls on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * IAM as seen without the SDK's retries: a seeded `rate` of calls is refused with `Throttling` before
 * reaching the account. Records each successful DeletePolicy, so a double revoke would show.
 */
function throttled(account: SimulatedAccount, rate: number, seed: number) {
  const random = seeded(seed);
  const stats = { calls: 0, throttled: 0, deleted: [] as string[] };
  const access = new Proxy(account, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (!IAM_OPS.some((op) => op === prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        stats.calls++;
        if (random() < rate) {
          stats.throttled++;
          throw new AccessControlError('Throttling', 'Rate exceeded');
        }
        const answer = await value.apply(target, args);
        if (prop === 'deletePolicy' && answer === 'deleted') stats.deleted.push(args[0] as string);
        return answer;
      };
    },
  });
  return { access, stats };
}

describe('sweep: IAM throttling 30% of calls', () => {
  /**
   * Without the SDK's retries each sweep makes one attempt per due grant, and an attempt needs its
   * DetachPolicy and DeletePolicy both unthrottled: a grant outlives a sweep with p = 1 - 0.7² = 0.51,
   * twelve sweeps with 0.51¹² ≈ 3e-4. (Over seeds 1-200, nine grants needed 2-12 sweeps, a third of
   * them more than 5: the bound is a property of this model, not of a lucky seed.)
   */
  const MAX_SWEEPS = 12;

  it.each([1, 2, 3, 4, 5, 6])(
    'still revokes every expired grant within a bounded number of sweeps (seed %i)',
    async (seed) => {
      const s = scenario({
        targets: {
          'prod-raspi': prodRaspi,
          'staging-web': stagingWeb,
          'lab-raspi': { ...prodRaspi, name: 'lab-raspi', tags: { Fleet: 'lab-raspi' } },
        },
      });
      const ids: string[] = [];
      for (const user of ['U0ALICE', 'U0BOB', 'U0DAVE'])
        for (const target of ['prod-raspi', 'staging-web', 'lab-raspi'])
          ids.push((await activate(s, { user, text: `${target} 1h maintenance` })).id);
      s.chat.notices.length = 0;
      const { access, stats } = throttled(s.account, 0.3, seed);
      s.deps.aws = onePlace({ access, fleet: s.account });

      at(s, EXPIRES_AT);
      const reports: SweepReport[] = [];
      const stillActive = async () =>
        (await Promise.all(ids.map((id) => stored(s, id)))).filter((g: Grant) => g.status === 'active');
      while ((await stillActive()).length > 0 && reports.length < MAX_SWEEPS + 5) {
        reports.push(await sweep(s.deps));
        // Past the lease a failed attempt left, as the sweeper's schedule would be in a few minutes.
        s.clock.advance(REVOKE_LEASE_MS + MINUTE);
      }

      expect(await stillActive()).toEqual([]);
      expect(reports.length).toBeLessThanOrEqual(MAX_SWEEPS);
      expect(stats.throttled).toBeGreaterThan(0);
      expect(reports.reduce((n, r) => n + r.failures, 0)).toBeGreaterThan(0);
      expect(reports.reduce((n, r) => n + r.ended, 0)).toBe(ids.length);
      // Bounded: each sweep tries each due grant once (detach + delete), never more.
      expect(stats.calls).toBeLessThanOrEqual(reports.length * ids.length * 2);

      await drain(s);
      for (const id of ids) {
        const grant = await stored(s, id);
        expect(grant.status).toBe('expired');
        expect(grant.history.filter((h) => h.to === 'expired')).toHaveLength(1);
        expect(stats.deleted.filter((arn) => arn === policyArnOf(s, id))).toHaveLength(1);
        expect(notices(s, 'ended', id)).toHaveLength(1);
      }
      expect(keyturnPolicies(s)).toEqual([]);
      for (const principal of [alice, bob, dave]) expect(s.account.attachedPolicies(principal)).toEqual([]);
    },
  );
});

describe('sweep: a revoke that keeps failing', () => {
  it('is reported to the audit channel once, after it is five minutes overdue, and retried every sweep', async () => {
    const s = scenario();
    await activate(s);
    // IAM refuses every detach for a while: the policy stays attached (access itself ended at expiry).
    for (let i = 0; i < 8; i++) s.account.failNext('detachPolicy', 'AccessDenied');

    at(s, EXPIRES_AT);
    for (let minute = 0; minute <= 6; minute++) {
      expect((await sweep(s.deps)).failures).toBe(1);
      expect(s.chat.audits.filter((a) => a.event.kind === 'revoke-failed')).toHaveLength(minute >= 5 ? 1 : 0);
      s.clock.advance(MINUTE);
    }
    const audit = s.chat.audits.find((a) => a.event.kind === 'revoke-failed');
    expect(audit).toMatchObject({
      channel: 'C0AUDIT',
      event: { grant: { id: 'g1' }, error: expect.stringContaining('AccessDenied') },
    });

    // IAM recovers: the next sweep finishes, with no second audit.
    expect((await sweep(s.deps)).ended).toBe(0);
    expect((await sweep(s.deps)).ended).toBe(1);
    expect((await stored(s, 'g1')).status).toBe('expired');
    expect(s.chat.audits.filter((a) => a.event.kind === 'revoke-failed')).toHaveLength(1);
  });
});

describe('sweep: every account on its own', () => {
  /** alice's grant on factory-raspi (B), bob's two on frankfurt-raspi (C), dave's on prod-raspi (home). */
  async function grantsEverywhere(o: Organisation) {
    const grants = {
      factory: await activate(o, { user: 'U0ALICE', text: 'factory-raspi 1h replace sensor' }),
      frankfurt: await activate(o, { user: 'U0BOB', text: 'frankfurt-raspi 1h replace sensor' }),
      frankfurtToo: await activate(o, { user: 'U0DAVE', text: 'frankfurt-raspi 1h check the line' }),
      home: await activate(o, { user: 'U0DAVE', text: 'prod-raspi 1h replace sensor' }),
    };
    o.chat.notices.length = 0;
    return grants;
  }
  const keyturnPoliciesIn = (account: SimulatedAccount) =>
    account.policyArns().filter((arn) => arn.includes(':policy/keyturn/'));
  const unreachableAudits = (o: Organisation) =>
    o.chat.audits.filter((a) => a.event.kind === 'accounts-unreachable');

  it("the sweeper ends due grants in account B while account C's STS endpoint fails", async () => {
    const o = organisation();
    const g = await grantsEverywhere(o);
    expect(keyturnPoliciesIn(o.factory)).toHaveLength(1);
    expect(keyturnPoliciesIn(o.frankfurt)).toHaveLength(2);

    o.reach(FRANKFURT.accountId, 'unreachable');
    at(o, EXPIRES_AT);
    const report = await sweep(o.deps);
    expect(report).toMatchObject({ ended: 2, unreachable: [FRANKFURT.accountId] });
    // B and the home account: revoked, detached, deleted, expired.
    for (const grant of [g.factory, g.home]) expect((await stored(o, grant.id)).status).toBe('expired');
    expect(keyturnPoliciesIn(o.factory)).toEqual([]);
    expect(o.factory.attachedPolicies(alice)).toEqual([]);
    expect(keyturnPolicies(o)).toEqual([]);
    // C: still active, its ending decided at expiry, its policies still there; nothing reported yet.
    for (const grant of [g.frankfurt, g.frankfurtToo]) {
      const now = await stored(o, grant.id);
      expect(now).toMatchObject({ status: 'active', ending: { status: 'expired', at: EXPIRES_AT } });
      expect(now.revokeLease).toBeUndefined();
    }
    expect(keyturnPoliciesIn(o.frankfurt)).toHaveLength(2);
    expect(o.chat.audits).toEqual([]);
    // B's sessions were reconciled in the same sweep; C's were not asked for.
    expect(o.factory.calls.map((c) => c.op)).toContain('sessionsSince');
    await drain(o);
    expect(
      notices(o, 'ended')
        .map((n) => n.grant.id)
        .sort(),
    ).toEqual([g.factory.id, g.home.id].sort());
  });

  it('retries C every sweep, reports its grants once, in one audit message, after five minutes, and ends them once C answers', async () => {
    const o = organisation();
    const g = await grantsEverywhere(o);
    o.reach(FRANKFURT.accountId, 'unreachable');
    at(o, EXPIRES_AT);
    const refusedPerSweep: number[] = [];
    for (let minute = 0; minute <= 7; minute++) {
      const before = o.refused.get(FRANKFURT.accountId) ?? 0;
      const report = await sweep(o.deps);
      refusedPerSweep.push((o.refused.get(FRANKFURT.accountId) ?? 0) - before);
      expect(report.unreachable).toEqual([FRANKFURT.accountId]);
      expect(unreachableAudits(o)).toHaveLength(minute >= 5 ? 1 : 0);
      o.clock.advance(MINUTE);
    }
    // Retried every sweep (each call refused), a bounded number of calls each time.
    for (const n of refusedPerSweep) expect(n).toBeGreaterThan(0);
    for (const n of refusedPerSweep) expect(n).toBeLessThanOrEqual(2 * 2);

    expect(o.chat.audits.map((a) => a.event.kind)).toEqual(['accounts-unreachable']);
    const [audit] = unreachableAudits(o);
    expect(audit).toMatchObject({
      channel: 'C0AUDIT',
      event: {
        kind: 'accounts-unreachable',
        accounts: [
          {
            accountId: FRANKFURT.accountId,
            alias: 'frankfurt',
            error: expect.stringContaining('keyturn-grantor'),
            grants: [{ id: g.frankfurt.id }, { id: g.frankfurtToo.id }],
          },
        ],
      },
    });
    // Recorded for the digest, once each.
    const anomalies = [...(o.deps.anomalies as MemoryAnomalyLog).items.values()];
    expect(
      anomalies
        .filter((a) => a.kind === 'revoke-failed')
        .map((a) => a.grantId)
        .sort(),
    ).toEqual([g.frankfurt.id, g.frankfurtToo.id]);

    o.reach(FRANKFURT.accountId, 'up');
    const report = await sweep(o.deps);
    expect(report).toMatchObject({ ended: 2, failures: 0 });
    expect(report.unreachable).toBeUndefined();
    expect(keyturnPoliciesIn(o.frankfurt)).toEqual([]);
    for (const grant of [g.frankfurt, g.frankfurtToo])
      expect((await stored(o, grant.id)).status).toBe('expired');
    expect(o.chat.audits).toHaveLength(1);
  });

  it('stops calling an account once it fails as a whole: its other due grants are marked ending without a call', async () => {
    const o = organisation();
    const g = await grantsEverywhere(o);
    // 150 more due grants in C (copies of bob's, as the store would list them).
    const template = await stored(o, g.frankfurt.id);
    const many = Array.from({ length: 150 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    for (const id of many) o.grants.items.set(id, { ...template, id });
    o.reach(FRANKFURT.accountId, 'unreachable');
    at(o, EXPIRES_AT);

    const report = await sweep(o.deps);
    expect(report).toMatchObject({ ended: 2, unreachable: [FRANKFURT.accountId] });
    // At most the revokes already in flight when the first refusal came (IAM and SSM each), not one per grant.
    expect(o.refused.get(FRANKFURT.accountId)).toBeLessThanOrEqual(2 * REVOKE_CONCURRENCY);
    for (const id of [...many, g.frankfurt.id, g.frankfurtToo.id])
      expect(await stored(o, id)).toMatchObject({
        status: 'active',
        ending: { status: 'expired', at: EXPIRES_AT },
      });

    // Five minutes on: one audit message names all 152 (the Slack message lists 20 and counts the rest).
    at(o, '2026-11-23T11:05:00Z');
    await sweep(o.deps);
    const audits = unreachableAudits(o);
    expect(audits).toHaveLength(1);
    const event = audits[0]?.event as Extract<AuditEvent, { kind: 'accounts-unreachable' }>;
    expect(event.accounts.map((a) => a.grants.length)).toEqual([152]);
    await sweep(o.deps);
    expect(unreachableAudits(o)).toHaveLength(1);
  });

  it("a silent account C (its calls never answer) does not hold up B's expiries, the home chores or the sweep's return", async () => {
    const o = organisation();
    const g = await grantsEverywhere(o);
    // A request nobody decides: it lapses in the same sweep, whatever C does.
    const pending = await requestAccess(o.deps, { user: 'U0ALICE', text: 'prod-raspi 1h look around' });
    if (pending.outcome !== 'requested') throw new Error('not requested');
    o.reach(FRANKFURT.accountId, 'silent');
    at(o, EXPIRES_AT);

    const cutoff = new AbortController();
    // The handler's timer, here: once B's grant has ended, the sweep is told to stop waiting.
    const watch = (async () => {
      while (
        (await stored(o, g.factory.id)).status !== 'expired' ||
        (await stored(o, g.home.id)).status !== 'expired'
      )
        await new Promise((resolve) => setTimeout(resolve, 2));
      cutoff.abort();
    })();
    const report = await sweep(o.deps, { cutoff: cutoff.signal });
    await watch;

    expect(report).toMatchObject({ ended: 2, lapsed: 1, unreachable: [FRANKFURT.accountId] });
    expect((await stored(o, pending.grant.id)).status).toBe('lapsed');
    expect(keyturnPoliciesIn(o.factory)).toEqual([]);
    for (const grant of [g.frankfurt, g.frankfurtToo])
      expect(await stored(o, grant.id)).toMatchObject({ status: 'active', ending: { status: 'expired' } });
  });

  it('reconciles orphan policies in every declared account, each on its own', async () => {
    const o = organisation();
    const orphan = async (account: SimulatedAccount) =>
      account.createPolicy({
        name: 'keyturn-grant-gone',
        path: '/keyturn/',
        description: 'made outside Keyturn',
        document: { Version: '2012-10-17', Statement: [] },
        tags: {},
      });
    await orphan(o.factory);
    await orphan(o.frankfurt);
    await orphan(o.account);
    o.reach(FACTORY.accountId, 'unreachable');

    const report = await sweep(o.deps, { reconcile: true });
    expect(report.unreachable).toEqual([FACTORY.accountId]);
    expect(keyturnPoliciesIn(o.frankfurt)).toEqual([]);
    expect(keyturnPolicies(o)).toEqual([]);
    expect(keyturnPoliciesIn(o.factory)).toHaveLength(1);
    expect(o.chat.audits.map((a) => a.event.kind)).toEqual([
      'orphan-policy-removed',
      'orphan-policy-removed',
    ]);
  });
});
