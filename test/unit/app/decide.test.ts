import { decideOnGrant, previewDecision } from '../../../src/app/decide';
import { requestAccess } from '../../../src/app/request-access';
import type { Target } from '../../../src/domain/target';
import {
  ManualClock,
  MemoryGrantStore,
  prodRaspi,
  RecordingChat,
  RecordingQueue,
  testConfig,
} from '../../support/fakes';

async function setup(target: Target = prodRaspi) {
  const grants = new MemoryGrantStore();
  const queue = new RecordingQueue();
  const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
  const deps = {
    config: testConfig({ targets: { 'prod-raspi': target } }),
    grants,
    queue,
    chat,
    clock: new ManualClock(new Date('2026-11-23T10:00:00Z')),
    newId: () => 'g1',
  };
  await requestAccess(deps, { user: 'U0ALICE', text: 'prod-raspi 1h replace sensor' });
  queue.jobs.length = 0;
  deps.clock.set('2026-11-23T10:03:20Z');
  return { deps, grants, queue, chat };
}

describe('decideOnGrant', () => {
  it('approves, fixes the window at approval, and queues the apply and the announcement', async () => {
    const { deps, grants, queue } = await setup();
    const result = await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' });
    expect(result.outcome).toBe('approved');
    const g = await grants.get('g1');
    expect(g).toMatchObject({
      status: 'approved',
      version: 2,
      decidedBy: 'U0CAROL',
      startsAt: '2026-11-23T10:03:20Z',
      expiresAt: '2026-11-23T11:03:20Z',
      approvals: [{ by: 'U0CAROL', at: '2026-11-23T10:03:20Z' }],
    });
    expect(g?.history.map((h) => h.to)).toEqual(['pending', 'approved']);
    expect(queue.jobs).toEqual([
      { kind: 'grant-changed', grantId: 'g1', step: 1 },
      { kind: 'apply-grant', grantId: 'g1' },
    ]);
  });

  it('accepts an approver through a Slack user group', async () => {
    const { deps, chat } = await setup();
    expect((await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0DAVE', action: 'approve' })).outcome).toBe(
      'approved',
    );
    expect(chat.groupLookups).toBe(1);
  });

  it.each([
    ['U0BOB', 'not-approver'],
    ['U0ALICE', 'self-approval'],
  ])('refuses %s (%s) and changes nothing', async (clicker, reason) => {
    const { deps, grants, queue } = await setup({ ...prodRaspi, approvers: ['U0CAROL', 'U0ALICE'] });
    const before = await grants.get('g1');
    const result = await decideOnGrant(deps, { grantId: 'g1', clicker, action: 'approve' });
    expect(result).toMatchObject({ outcome: 'refused', reason });
    expect(await grants.get('g1')).toEqual(before);
    expect(queue.jobs).toEqual([]);
  });

  it('refuses an unknown grant id', async () => {
    const { deps } = await setup();
    expect(await decideOnGrant(deps, { grantId: 'nope', clicker: 'U0CAROL', action: 'approve' })).toEqual({
      outcome: 'refused',
      reason: 'unknown-grant',
    });
  });

  it('records the deny reason and queues only the announcement', async () => {
    const { deps, grants, queue } = await setup();
    const result = await decideOnGrant(deps, {
      grantId: 'g1',
      clicker: 'U0CAROL',
      action: 'deny',
      denyReason: 'use staging',
    });
    expect(result.outcome).toBe('denied');
    expect(await grants.get('g1')).toMatchObject({
      status: 'denied',
      denyReason: 'use staging',
      decidedBy: 'U0CAROL',
    });
    expect(queue.jobs).toEqual([{ kind: 'grant-changed', grantId: 'g1', step: 1 }]);
  });

  it('with approvals: 2, shows progress after one and approves after a second, distinct approver', async () => {
    const { deps, grants } = await setup({ ...prodRaspi, approvals: 2 });
    expect(
      (await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' })).outcome,
    ).toBe('approval-recorded');
    expect((await grants.get('g1'))?.history.at(-1)).toMatchObject({
      from: 'pending',
      to: 'pending',
      event: 'approval-recorded',
      note: 'approval 1 of 2',
    });
    expect(await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' })).toMatchObject(
      {
        outcome: 'refused',
        reason: 'already-approved-by-you',
      },
    );
    expect((await decideOnGrant(deps, { grantId: 'g1', clicker: 'U0DAVE', action: 'approve' })).outcome).toBe(
      'approved',
    );
    expect((await grants.get('g1'))?.approvals.map((a) => a.by)).toEqual(['U0CAROL', 'U0DAVE']);
  });

  it('20 concurrent clicks by the same approver approve once and queue one apply', async () => {
    const { deps, queue } = await setup();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' }),
      ),
    );
    expect(results.filter((r) => r.outcome === 'approved')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'refused')).toHaveLength(19);
    expect(queue.jobs.filter((j) => j.kind === 'apply-grant')).toHaveLength(1);
  });

  it('two approvers racing on a two-approval target: both count, approved exactly once', async () => {
    const { deps, grants, queue } = await setup({
      ...prodRaspi,
      approvals: 2,
      approvers: ['U0CAROL', 'U0BOB'],
    });
    const results = await Promise.all([
      decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' }),
      decideOnGrant(deps, { grantId: 'g1', clicker: 'U0BOB', action: 'approve' }),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['approval-recorded', 'approved']);
    expect((await grants.get('g1'))?.status).toBe('approved');
    expect(queue.jobs.filter((j) => j.kind === 'apply-grant')).toHaveLength(1);
  });

  it('approve and deny racing: exactly one wins', async () => {
    const { deps, grants } = await setup({ ...prodRaspi, approvers: ['U0CAROL', 'U0BOB'] });
    const results = await Promise.all([
      decideOnGrant(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'approve' }),
      decideOnGrant(deps, { grantId: 'g1', clicker: 'U0BOB', action: 'deny' }),
    ]);
    expect(results.filter((r) => r.outcome !== 'refused')).toHaveLength(1);
    expect(['approved', 'denied']).toContain((await grants.get('g1'))?.status);
  });
});

describe('previewDecision', () => {
  it('tells a non-approver no without writing', async () => {
    const { deps, grants } = await setup();
    const before = await grants.get('g1');
    expect(await previewDecision(deps, { grantId: 'g1', clicker: 'U0BOB', action: 'deny' })).toMatchObject({
      outcome: 'refused',
      reason: 'not-approver',
    });
    expect(await previewDecision(deps, { grantId: 'g1', clicker: 'U0CAROL', action: 'deny' })).toMatchObject({
      outcome: 'allowed',
    });
    expect(await grants.get('g1')).toEqual(before);
  });
});
