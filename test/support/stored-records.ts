import type { CommandRun } from '../../src/domain/command-run';
import type { Grant } from '../../src/domain/grant';

/**
 * Records as the store suites write them: a pending grant and a queued run, each with the id (and
 * whatever else) a test makes unique passed in.
 */
export function pendingGrant(overrides: Partial<Grant> & Pick<Grant, 'id'>): Grant {
  return {
    requester: 'U000000',
    principal: { kind: 'user', name: 'alice' },
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: 'rotate the disk',
    status: 'pending',
    version: 1,
    requestedAt: '2025-03-04T23:59:30Z',
    approvals: [],
    history: [{ at: '2025-03-04T23:59:30Z', from: null, to: 'pending', by: 'U000000' }],
    ...overrides,
  };
}

export function queuedRun(overrides: Partial<CommandRun> & Pick<CommandRun, 'id'>): CommandRun {
  return {
    snippet: 'logs',
    target: 'prod-raspi',
    params: { service: 'ssh', lines: '100' },
    command: "journalctl -u 'ssh' -n '100' --no-pager",
    requester: 'U0ALICE',
    channel: 'C0WORK',
    status: 'queued',
    version: 1,
    requestedAt: '2026-11-23T23:59:30Z',
    needsApproval: false,
    approvals: [],
    comment: 'Keyturn run r by U0ALICE: logs on prod-raspi',
    deliveryTimeoutSeconds: 300,
    simulated: false,
    ...overrides,
  };
}
