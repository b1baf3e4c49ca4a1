import { decide, decideExtension, isListedApprover } from '../../../src/domain/approval';
import type { Grant } from '../../../src/domain/grant';
import type { Target } from '../../../src/domain/target';

const target: Target = {
  name: 'prod-raspi',
  description: '',
  account: '123456789012',
  region: 'ap-northeast-1',
  tags: { Fleet: 'prod-raspi' },
  defaultDurationMinutes: 60,
  maxDurationMinutes: 240,
  approvers: ['U0CAROL', 'S0SRE'],
  approvals: 1,
  selfApproval: false,
  documents: ['shell'],
  warnBeforeMinutes: 10,
  approvalTimeoutMinutes: 60,
};

const pending: Grant = {
  id: 'g1',
  requester: 'U0ALICE',
  principal: { kind: 'user', name: 'alice' },
  target: 'prod-raspi',
  durationMinutes: 60,
  reason: 'r',
  status: 'pending',
  version: 1,
  requestedAt: '2026-11-23T10:00:00Z',
  approvals: [],
  history: [],
};

describe('decide', () => {
  it('approves when an approver clicks and one approval is needed', () => {
    expect(
      decide({ grant: pending, target, clicker: 'U0CAROL', clickerIsApprover: true, action: 'approve' }),
    ).toEqual({
      outcome: 'approve',
    });
  });

  it('refuses anyone who is not an approver, for approve and deny alike', () => {
    for (const action of ['approve', 'deny'] as const) {
      expect(decide({ grant: pending, target, clicker: 'U0BOB', clickerIsApprover: false, action })).toEqual({
        outcome: 'refuse',
        reason: 'not-approver',
      });
    }
  });

  it('refuses self-approval unless the target allows it', () => {
    const asApprover = {
      grant: pending,
      clicker: 'U0ALICE',
      clickerIsApprover: true,
      action: 'approve' as const,
    };
    expect(decide({ ...asApprover, target })).toEqual({ outcome: 'refuse', reason: 'self-approval' });
    expect(decide({ ...asApprover, target: { ...target, selfApproval: true } })).toEqual({
      outcome: 'approve',
    });
  });

  it('needs two distinct approvers when approvals is 2', () => {
    const two = { ...target, approvals: 2 };
    expect(
      decide({ grant: pending, target: two, clicker: 'U0CAROL', clickerIsApprover: true, action: 'approve' }),
    ).toEqual({
      outcome: 'record-approval',
      have: 1,
      need: 2,
    });
    const once = { ...pending, approvals: [{ by: 'U0CAROL', at: '2026-11-23T10:01:00Z' }] };
    expect(
      decide({ grant: once, target: two, clicker: 'U0CAROL', clickerIsApprover: true, action: 'approve' }),
    ).toEqual({
      outcome: 'refuse',
      reason: 'already-approved-by-you',
    });
    expect(
      decide({ grant: once, target: two, clicker: 'U0DAVE', clickerIsApprover: true, action: 'approve' }),
    ).toEqual({
      outcome: 'approve',
    });
  });

  it('lets an approver deny', () => {
    expect(
      decide({ grant: pending, target, clicker: 'U0CAROL', clickerIsApprover: true, action: 'deny' }),
    ).toEqual({
      outcome: 'deny',
    });
  });

  it.each(['approved', 'active', 'denied', 'expired'] as const)(
    'refuses any decision on a %s grant',
    (status) => {
      expect(
        decide({
          grant: { ...pending, status },
          target,
          clicker: 'U0CAROL',
          clickerIsApprover: true,
          action: 'approve',
        }),
      ).toEqual({ outcome: 'refuse', reason: 'not-pending' });
    },
  );
});

describe('isListedApprover', () => {
  it('accepts users listed directly and members of listed groups only', () => {
    expect(isListedApprover(target, 'U0CAROL', new Set())).toBe(true);
    expect(isListedApprover(target, 'U0DAVE', new Set(['S0SRE']))).toBe(true);
    expect(isListedApprover(target, 'U0DAVE', new Set(['S0OTHER']))).toBe(false);
    expect(isListedApprover(target, 'U0BOB', new Set())).toBe(false);
  });
});

describe('decideExtension', () => {
  const active: Grant = {
    ...pending,
    status: 'active',
    expiresAt: '2026-11-23T11:00:00Z',
    extension: {
      minutes: 30,
      requestedBy: 'U0ALICE',
      requestedAt: '2026-11-23T10:50:00Z',
      approvals: [],
      state: 'pending',
    },
  };

  it('applies the grant rules to the extension’s own approvals', () => {
    const base = { target, clicker: 'U0CAROL', clickerIsApprover: true, action: 'approve' as const };
    expect(decideExtension({ ...base, grant: active })).toEqual({ outcome: 'approve' });
    expect(decideExtension({ ...base, grant: active, clicker: 'U0BOB', clickerIsApprover: false })).toEqual({
      outcome: 'refuse',
      reason: 'not-approver',
    });
    expect(decideExtension({ ...base, grant: active, clicker: 'U0ALICE' })).toEqual({
      outcome: 'refuse',
      reason: 'self-approval',
    });
  });

  it.each([
    ['no extension', { ...active, extension: undefined }],
    [
      'an extension already approved',
      { ...active, extension: { ...active.extension!, state: 'approved' as const } },
    ],
    [
      'a grant that is ending',
      { ...active, ending: { status: 'released' as const, by: 'U0ALICE', at: '2026-11-23T10:55:00Z' } },
    ],
    ['a grant that is no longer active', { ...active, status: 'expired' as const }],
  ])('refuses a decision on %s', (_name, grant) => {
    expect(
      decideExtension({ grant, target, clicker: 'U0CAROL', clickerIsApprover: true, action: 'approve' }),
    ).toEqual({
      outcome: 'refuse',
      reason: 'not-pending',
    });
  });
});
