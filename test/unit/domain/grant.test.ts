import {
  addMinutes,
  canTransition,
  GRANT_STATUSES,
  type Grant,
  type GrantStatus,
  transition,
} from '../../../src/domain/grant';

const LEGAL: Record<GrantStatus, GrantStatus[]> = {
  pending: ['pending', 'approved', 'denied', 'cancelled', 'lapsed'],
  approved: ['active', 'failed'],
  // active → active: extension bookkeeping; active → failed: the policy vanished (issue 3 reconciliation).
  active: ['active', 'expired', 'revoked', 'released', 'failed'],
  expired: [],
  revoked: [],
  released: [],
  denied: [],
  cancelled: [],
  lapsed: [],
  failed: [],
};

function grant(status: GrantStatus): Grant {
  return {
    id: 'a1b2c3',
    requester: 'U0ALICE',
    principal: { kind: 'user', name: 'alice' },
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: 'sensor',
    status,
    version: 3,
    requestedAt: '2026-11-23T10:00:00Z',
    approvals: [],
    history: [{ at: '2026-11-23T10:00:00Z', from: null, to: 'pending', by: 'U0ALICE' }],
  };
}

const pairs = GRANT_STATUSES.flatMap((from) => GRANT_STATUSES.map((to) => [from, to] as const));

describe('grant state machine', () => {
  it.each(pairs)('%s → %s is allowed only as DESIGN.md lists it', (from, to) => {
    const legal = LEGAL[from].includes(to);
    expect(canTransition(from, to)).toBe(legal);
    const result = transition(grant(from), to, { at: '2026-11-23T10:05:00Z', by: 'U0CAROL' });
    expect(result.ok).toBe(legal);
    if (!result.ok) expect(result.error).toEqual({ reason: 'illegal-transition', from, to });
  });

  it('appends exactly one history entry and bumps the version', () => {
    const before = grant('pending');
    const result = transition(before, 'approved', {
      at: '2026-11-23T10:05:00Z',
      by: 'U0CAROL',
      note: 'ok',
      set: { decidedBy: 'U0CAROL' },
    });
    if (!result.ok) throw new Error('refused');
    expect(result.value.version).toBe(4);
    expect(result.value.status).toBe('approved');
    expect(result.value.decidedBy).toBe('U0CAROL');
    expect(result.value.history).toHaveLength(2);
    expect(result.value.history[1]).toEqual({
      at: '2026-11-23T10:05:00Z',
      from: 'pending',
      to: 'approved',
      by: 'U0CAROL',
      note: 'ok',
    });
    expect(before.history).toHaveLength(1);
  });

  it('records an event and removes fields named in unset', () => {
    const withExtension: Grant = {
      ...grant('active'),
      extension: {
        minutes: 30,
        requestedBy: 'U0ALICE',
        requestedAt: '2026-11-23T10:10:00Z',
        approvals: [],
        state: 'pending',
      },
    };
    const result = transition(withExtension, 'active', {
      at: '2026-11-23T10:12:00Z',
      by: 'keyturn',
      event: 'extended',
      set: { expiresAt: '2026-11-23T11:30:00Z' },
      unset: ['extension'],
    });
    if (!result.ok) throw new Error('refused');
    expect(result.value.extension).toBeUndefined();
    expect('extension' in result.value).toBe(false);
    expect(result.value.expiresAt).toBe('2026-11-23T11:30:00Z');
    expect(result.value.history.at(-1)).toMatchObject({ from: 'active', to: 'active', event: 'extended' });
    expect(withExtension.extension).toBeDefined();
  });

  it('computes expiry in whole seconds', () => {
    expect(addMinutes('2026-11-23T23:30:00Z', 90)).toBe('2026-11-24T01:00:00Z');
  });
});
