import { buildDigest, type DigestDeps, grantLifetimeMs, postDigest } from '../../../src/app/post-digest';
import { reconcile } from '../../../src/app/reconcile';
import { sweep } from '../../../src/app/sweep';
import type { CommandRun, NodeResult } from '../../../src/domain/command-run';
import type { CommandRunStore } from '../../../src/ports/command-run-store';
import { anomalies, DIGEST_NOW, grants, sessions } from '../../support/digest-fixture';
import {
  type MemoryAnomalyLog,
  ManualClock,
  MemoryGrantStore,
  prodRaspi,
  type RecordingSessionChat,
  sessionFakes,
  silentLogger,
  testConfig,
} from '../../support/fakes';
import { activate, alice, MINUTE, RASPI_NODE, scenario } from '../../support/grant-scenarios';

/** Only what the digest reads of the Run Command store: runs by UTC day and their node results. */
class DayRuns implements Pick<CommandRunStore, 'listByDay' | 'nodeResults'> {
  readonly dayReads: string[] = [];
  constructor(
    private readonly runs: CommandRun[],
    private readonly results: Record<string, NodeResult[]> = {},
  ) {}
  async listByDay(day: string) {
    this.dayReads.push(day);
    return this.runs.filter((r) => r.requestedAt.startsWith(day));
  }
  async nodeResults(runId: string) {
    return this.results[runId] ?? [];
  }
}

function run(id: string, requestedAt: string, change: Partial<CommandRun> = {}): CommandRun {
  return {
    id,
    snippet: 'disk',
    target: 'prod-raspi',
    params: {},
    command: 'df -h /',
    requester: 'U0ALICE',
    channel: 'C0OPS',
    status: 'finished',
    version: 5,
    requestedAt,
    needsApproval: false,
    approvals: [],
    comment: `keyturn ${id}`,
    deliveryTimeoutSeconds: 300,
    end: 'completed',
    counts: { succeeded: 2 },
    simulated: true,
    ...change,
  };
}

function result(nodeId: string, nodeName: string, outcome: NodeResult['outcome']): NodeResult {
  return {
    nodeId,
    nodeName,
    outcome,
    status: outcome,
    stdout: '',
    stdoutChars: 0,
    stderr: '',
    stderrChars: 0,
  };
}

async function setup(runs: CommandRun[] = [], results: Record<string, NodeResult[]> = {}) {
  const base = testConfig();
  const config = { ...base, digest: { at: '09:00', timezone: 'Asia/Tokyo' } };
  const grantStore = new MemoryGrantStore();
  for (const g of grants) grantStore.items.set(g.id, structuredClone(g));
  const fakes = sessionFakes(grantStore);
  for (const s of sessions) fakes.sessions.items.set(s.id, structuredClone(s));
  for (const a of anomalies) await fakes.anomalies.record(a);
  const dayRuns = new DayRuns(runs, results);
  const deps: DigestDeps = {
    config,
    clock: new ManualClock(new Date(DIGEST_NOW)),
    grants: grantStore,
    digestData: fakes.digestData,
    runs: dayRuns,
    sessionChat: fakes.sessionChat,
    logger: silentLogger,
  };
  return { deps, chat: fakes.sessionChat as RecordingSessionChat, dayRuns };
}

describe('buildDigest', () => {
  it('reports the previous local day in digest.timezone, from the stores', async () => {
    const { deps } = await setup();
    const view = await buildDigest(deps);
    expect(view.day).toEqual({
      date: '2026-11-23',
      timeZone: 'Asia/Tokyo',
      start: '2026-11-22T15:00:00.000Z',
      end: '2026-11-23T15:00:00.000Z',
    });
    expect(view.requests.total).toBe(6);
    expect(view.extensions.denied).toBe(1);
    expect(view.sessions.count).toBe(5);
    expect(view.anomalies.total).toBe(4);
    // Active now is read from the store's active grants: g0 in the fixture.
    expect(view.activeNow.map((g) => g.grantId)).toEqual(['g0']);
  });

  it('--date picks another local day', async () => {
    const { deps } = await setup();
    const view = await buildDigest(deps, { date: '2026-11-22' });
    expect(view.day.start).toBe('2026-11-21T15:00:00.000Z');
    expect(view.requests.total).toBe(1);
    expect(view.sessions.count).toBe(1);
  });

  it('reads runs from both UTC days of the local day and names the nodes of failed runs', async () => {
    const runs = [
      run('r1', '2026-11-22T16:00:00Z'),
      run('r2', '2026-11-23T07:00:00Z', { snippet: 'logs', counts: { succeeded: 1, failed: 1 } }),
      // 00:00 on the 24th in Tokyo: the next day.
      run('r3', '2026-11-23T15:00:00Z'),
    ];
    const { deps, dayRuns } = await setup(runs, {
      r2: [result('mi-1', 'raspi-line-1', 'succeeded'), result('mi-2', 'raspi-line-2', 'failed')],
    });
    const view = await buildDigest(deps);
    expect(dayRuns.dayReads.sort()).toEqual(['2026-11-22', '2026-11-23']);
    expect(view.runs.total).toBe(2);
    expect(view.runs.outcomes).toMatchObject({ succeeded: 1, partial: 1 });
    expect(view.runs.failures).toEqual([
      expect.objectContaining({ id: 'r2', failedNodes: ['raspi-line-2'] }),
    ]);
  });
});

describe('postDigest', () => {
  it('posts to the audit channel once per day, however often the schedule fires', async () => {
    const { deps, chat } = await setup();
    expect((await postDigest(deps)).outcome).toBe('posted');
    expect((await postDigest(deps)).outcome).toBe('already-posted');
    expect(chat.digests).toHaveLength(1);
    expect(chat.digests[0]?.channel).toBe('C0AUDIT');
    expect(chat.digests[0]?.view.day.date).toBe('2026-11-23');
    expect((await postDigest(deps, { date: '2026-11-22' })).outcome).toBe('posted');
    expect(chat.digests).toHaveLength(2);
  });
  it('skipEmpty (the sandbox) posts nothing for a day nothing happened on, and leaves that day unclaimed', async () => {
    const { deps, chat } = await setup();
    const quiet = { ...deps, grants: new MemoryGrantStore(), ...emptyStores() };
    expect((await postDigest(quiet, { date: '2026-10-01', skipEmpty: true })).outcome).toBe('skipped-empty');
    expect(chat.digests).toHaveLength(0);
    expect((await postDigest(deps, { skipEmpty: true })).outcome).toBe('posted');
  });
});

function emptyStores(): Pick<DigestDeps, 'digestData' | 'runs'> {
  const fakes = sessionFakes(new MemoryGrantStore());
  return { digestData: fakes.digestData, runs: new DayRuns([]) };
}

describe('grantLifetimeMs', () => {
  it('is the longest approval wait plus the longest grant with its extensions', () => {
    const config = testConfig({
      targets: {
        a: { ...prodRaspi, name: 'a', approvalTimeoutMinutes: 60, maxDurationMinutes: 240 },
        b: {
          ...prodRaspi,
          name: 'b',
          approvalTimeoutMinutes: 30,
          maxDurationMinutes: 120,
          maxTotalMinutes: 600,
        },
      },
    });
    expect(grantLifetimeMs(config)).toBe(630 * 60_000);
  });
});

describe('anomalies the sweeper reports reach the digest', () => {
  it('an orphan policy removed and a revoke that could not end a session are recorded, and listed the next morning', async () => {
    const s = scenario();
    const grant = await activate(s);
    s.clock.advance(MINUTE);
    const opened = await s.account.startSession(alice, RASPI_NODE);
    if (!opened.ok) throw new Error(opened.reason);
    s.account.refuseTermination(opened.session.id);
    const orphan = await s.account.createPolicy({
      name: 'keyturn-gone1',
      path: '/keyturn/',
      description: 'left behind',
      tags: {},
      document: { Version: '2012-10-17', Statement: [] },
    });
    s.clock.advance(20 * MINUTE);
    await reconcile(s.deps);

    s.clock.set(grant.expiresAt as string);
    s.clock.advance(1_000);
    await sweep(s.deps);

    const recorded = [...(s.deps.anomalies as MemoryAnomalyLog).items.values()];
    expect(recorded).toEqual([
      expect.objectContaining({ kind: 'orphan-policy-removed', policyArn: orphan.arn, grantId: 'gone1' }),
      expect.objectContaining({
        kind: 'sessions-not-ended',
        grantId: grant.id,
        requester: 'U0ALICE',
        sessionIds: [opened.session.id],
      }),
    ]);

    s.clock.set('2026-11-24T09:00:00Z');
    const view = await buildDigest({
      ...s.deps,
      runs: { listByDay: async () => [], nodeResults: async () => [] },
    });
    expect(view.day.date).toBe('2026-11-23');
    expect(view.anomalies.orphanPolicies.map((a) => a.policyArn)).toEqual([orphan.arn]);
    expect(view.anomalies.failedRevocations.map((a) => a.grantId)).toEqual([grant.id]);
  });

  it('a revoke still failing past its due time is recorded once, with the error', async () => {
    const s = scenario();
    const grant = await activate(s);
    s.clock.set(grant.expiresAt as string);
    s.clock.advance(1_000);
    s.account.failNext('detachPolicy', 'ServiceFailure');
    await sweep(s.deps);
    s.clock.advance(6 * MINUTE);
    s.account.failNext('detachPolicy', 'ServiceFailure');
    await sweep(s.deps);
    s.clock.advance(MINUTE);
    s.account.failNext('detachPolicy', 'ServiceFailure');
    await sweep(s.deps);

    const recorded = [...(s.deps.anomalies as MemoryAnomalyLog).items.values()];
    expect(recorded).toEqual([
      expect.objectContaining({
        kind: 'revoke-failed',
        grantId: grant.id,
        requester: 'U0ALICE',
        target: 'prod-raspi',
        error: expect.stringContaining('ServiceFailure'),
      }),
    ]);
  });
});
