import type { CommandRun } from '../../../src/domain/command-run';
import { digestRun, requestOutcome, runOutcome } from '../../../src/domain/digest-outcome';
import type { Grant } from '../../../src/domain/grant';
import { grants } from '../../support/digest-fixture';

describe('requestOutcome', () => {
  const g = (status: Grant['status'], to?: Grant['status']): Grant => ({
    ...(grants[0] as Grant),
    status,
    history: to ? [{ at: 'x', from: 'approved', to, by: 'keyturn' }] : [],
  });
  it('approved covers everything that was approved; failed only a grant that never became active', () => {
    expect(requestOutcome(g('revoked'))).toBe('approved');
    expect(requestOutcome(g('released'))).toBe('approved');
    expect(requestOutcome(g('failed'))).toBe('failed');
    expect(requestOutcome(g('failed', 'active'))).toBe('approved');
    expect(requestOutcome(g('pending'))).toBe('pending');
  });
});

describe('runs: CommandRun records as the digest counts them', () => {
  const base: CommandRun = {
    id: 'r',
    snippet: 'disk',
    target: 'prod-raspi',
    params: {},
    command: 'df -h /',
    requester: 'U0ALICE',
    channel: 'C1',
    status: 'finished',
    version: 4,
    requestedAt: '2026-11-23T06:00:00Z',
    needsApproval: false,
    approvals: [],
    comment: 'keyturn r',
    deliveryTimeoutSeconds: 300,
    end: 'completed',
    counts: { succeeded: 3 },
    simulated: true,
  };
  it.each([
    [{}, 'succeeded'],
    [{ counts: { succeeded: 2, failed: 1 } }, 'partial'],
    [{ counts: { 'timed-out': 2, undeliverable: 1 } }, 'failed'],
    [{ end: 'no-online-nodes' as const, counts: {} }, 'no-nodes'],
    [{ status: 'failed' as const, failureReason: 'AccessDenied' }, 'failed'],
    [{ status: 'denied' as const }, 'denied'],
    [{ status: 'running' as const }, 'in-progress'],
  ])('%p → %p', (change, outcome) => {
    expect(runOutcome({ ...base, ...change })).toBe(outcome);
  });

  it('counts the nodes and names the failed ones it is given; a send failure keeps its reason', () => {
    expect(digestRun({ ...base, counts: { succeeded: 2, failed: 1 } }, ['raspi-line-3'])).toMatchObject({
      nodeCount: 3,
      failedCount: 1,
      failedNodes: ['raspi-line-3'],
    });
    expect(digestRun({ ...base, status: 'failed', failureReason: 'AccessDenied' }).reason).toBe(
      'AccessDenied',
    );
  });
});
