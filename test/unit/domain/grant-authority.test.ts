import type { Grant, HistoryEntry } from '../../../src/domain/grant';
import {
  type AuthorityContext,
  type AuthorityRefusal,
  checkApprovals,
  checkExtensionAuthority,
  checkGrantAuthority,
  describeAuthorityRefusal,
  isCurrentPrincipal,
} from '../../../src/domain/grant-authority';
import type { Target } from '../../../src/domain/target';
import { prodRaspi, testConfig } from '../../support/fakes';
import { FACTORY, HOME, orgConfig } from '../../support/org-config';

const POLICY = 'arn:aws:iam::123456789012:policy/keyturn/keyturn-g1';
const REQUESTED = '2026-11-23T09:58:00Z';
const APPROVED = '2026-11-23T10:00:00Z';

function context(overrides: Partial<AuthorityContext> = {}, target: Partial<Target> = {}): AuthorityContext {
  const config = testConfig({ targets: { 'prod-raspi': { ...prodRaspi, ...target } } });
  return {
    people: config.people,
    targets: config.targets,
    groups: { members: new Map([['S0SREGROUP', ['U0DAVE']]]), unresolved: new Set() },
    policyArn: POLICY,
    home: { accountId: config.aws.accountId, region: config.aws.region },
    ...overrides,
  };
}

/** An approved grant exactly as Keyturn records one: alice asks for 1h, carol approves. */
function approvedGrant(overrides: Partial<Grant> = {}): Grant {
  return {
    id: 'g1',
    requester: 'U0ALICE',
    principal: { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' },
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: 'replace sensor',
    status: 'approved',
    version: 2,
    requestedAt: REQUESTED,
    approvals: [{ by: 'U0CAROL', at: APPROVED }],
    decidedBy: 'U0CAROL',
    decidedAt: APPROVED,
    startsAt: APPROVED,
    expiresAt: '2026-11-23T11:00:00Z',
    history: [
      { at: REQUESTED, from: null, to: 'pending', by: 'U0ALICE' },
      { at: APPROVED, from: 'pending', to: 'approved', by: 'U0CAROL' },
    ],
    ...overrides,
  };
}

const approvalEntry = (by: string, at = APPROVED): HistoryEntry => ({
  at,
  from: 'pending',
  to: 'approved',
  by,
});
const recorded = (by: string, at = '2026-11-23T09:59:00Z'): HistoryEntry => ({
  at,
  from: 'pending',
  to: 'pending',
  event: 'approval-recorded',
  by,
});

function expectRefused(
  decision: ReturnType<typeof checkGrantAuthority>,
  expected: Partial<AuthorityRefusal>,
) {
  expect(decision).toMatchObject({ outcome: 'refuse', ...expected });
  if (decision.outcome === 'refuse') expect(describeAuthorityRefusal(decision)).toMatch(/\w/);
}

describe('checkGrantAuthority: a grant as Keyturn records it', () => {
  it('allows an approved grant whose history, window and principal match the configuration', () => {
    expect(checkGrantAuthority(approvedGrant(), context())).toEqual({ outcome: 'allow' });
  });

  it('allows an approval by a member of a listed user group', () => {
    const grant = approvedGrant({ history: [approvedGrant().history[0]!, approvalEntry('U0DAVE')] });
    expect(checkGrantAuthority(grant, context())).toEqual({ outcome: 'allow' });
  });

  it('allows two distinct approvals when the target needs two', () => {
    const grant = approvedGrant({
      history: [approvedGrant().history[0]!, recorded('U0DAVE'), approvalEntry('U0CAROL')],
    });
    expect(checkGrantAuthority(grant, context({}, { approvals: 2 }))).toEqual({ outcome: 'allow' });
  });

  it('counts a recorded approval written before approvals were tagged (no event)', () => {
    const { event: _event, ...untagged } = recorded('U0DAVE');
    const grant = approvedGrant({
      history: [approvedGrant().history[0]!, untagged, approvalEntry('U0CAROL')],
    });
    expect(checkGrantAuthority(grant, context({}, { approvals: 2 }))).toEqual({ outcome: 'allow' });
  });

  it('allows the requester approving when the target allows self-approval', () => {
    const grant = approvedGrant({
      requester: 'U0CAROL',
      principal: { kind: 'access-role', name: 'keyturn-u0carol', sessionName: 'carol' },
    });
    expect(checkGrantAuthority(grant, context({}, { selfApproval: true }))).toEqual({ outcome: 'allow' });
  });
});

describe('checkGrantAuthority refuses a grant that does not hold up', () => {
  it('unmapped-requester: the requester is not under people', () => {
    expectRefused(checkGrantAuthority(approvedGrant({ requester: 'U0MALLORY' }), context()), {
      reason: 'unmapped-requester',
      requester: 'U0MALLORY',
    });
  });

  it.each([
    ['an IAM user attached directly', { kind: 'user', name: 'alice' }],
    ['another IAM user', { kind: 'user', name: 'admin' }],
    ['the right name as a role', { kind: 'role', name: 'alice' }],
    ["another person's access role", { kind: 'access-role', name: 'keyturn-u0bob', sessionName: 'bob' }],
    [
      "the requester's access role under another session name",
      { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'bob' },
    ],
  ] as const)('principal-not-mapped: %s', (_label, principal) => {
    expectRefused(checkGrantAuthority(approvedGrant({ principal }), context()), {
      reason: 'principal-not-mapped',
      principal,
      mapped: { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' },
    });
  });

  it('unknown-target: the target left the configuration', () => {
    expectRefused(checkGrantAuthority(approvedGrant({ target: 'prod-db' }), context()), {
      reason: 'unknown-target',
      target: 'prod-db',
    });
  });

  it('direct-attach-elsewhere: an attach: direct person’s own IAM user is not in the member account', () => {
    const config = orgConfig();
    const ctx = context({ people: config.people, targets: config.targets });
    const erin = { kind: 'user', name: 'erin', path: '/engineering/' } as const;
    // The request refuses this (request-access.ts); a stored record is not trusted to have passed there.
    const forged = approvedGrant({
      requester: 'U0ERIN',
      principal: erin,
      target: 'osaka-raspi',
      account: FACTORY,
      region: 'ap-northeast-3',
    });
    expectRefused(checkGrantAuthority(forged, ctx), {
      reason: 'direct-attach-elsewhere',
      account: FACTORY,
      home: HOME,
    });
    expect(
      describeAuthorityRefusal({
        reason: 'direct-attach-elsewhere',
        principal: erin,
        account: FACTORY,
        home: HOME,
      }),
    ).toBe(
      "the grant attaches to IAM user erin (attach: direct), which is in Keyturn's account 123456789012, and the target is in account 444455556666; a policy can only be attached in its own account",
    );
    // The same person's grant in Keyturn's own account holds up; so does an access role's in the member account.
    const home = approvedGrant({
      requester: 'U0ERIN',
      principal: erin,
      account: HOME,
      region: 'ap-northeast-1',
    });
    expect(checkGrantAuthority(home, ctx)).toEqual({ outcome: 'allow' });
    const alice = approvedGrant({ target: 'osaka-raspi', account: FACTORY, region: 'ap-northeast-3' });
    expect(checkGrantAuthority(alice, ctx)).toEqual({ outcome: 'allow' });
  });

  it("policy-not-own: the grant names another grant's policy", () => {
    const other = 'arn:aws:iam::123456789012:policy/keyturn/keyturn-g9';
    expectRefused(checkGrantAuthority(approvedGrant({ policyArn: other }), context()), {
      reason: 'policy-not-own',
      policyArn: other,
    });
  });

  it('no-recorded-approval: the history has no approval at all', () => {
    const grant = approvedGrant({ history: [approvedGrant().history[0]!] });
    expectRefused(checkGrantAuthority(grant, context()), { reason: 'no-recorded-approval' });
  });

  it('no-window: the grant has no start or end', () => {
    const { startsAt: _s, expiresAt: _e, ...grant } = approvedGrant();
    expectRefused(checkGrantAuthority(grant, context()), { reason: 'no-window' });
  });

  it('window-not-at-approval: the window starts before the approval', () => {
    const grant = approvedGrant({ startsAt: '2026-11-23T09:00:00Z', expiresAt: '2026-11-23T10:00:00Z' });
    expectRefused(checkGrantAuthority(grant, context()), {
      reason: 'window-not-at-approval',
      startsAt: '2026-11-23T09:00:00Z',
      approvedAt: APPROVED,
    });
  });

  it('window-length-mismatch: an approved 1h request with a window until 2036', () => {
    const grant = approvedGrant({ expiresAt: '2036-01-01T00:00:00Z' });
    expectRefused(checkGrantAuthority(grant, context()), {
      reason: 'window-length-mismatch',
      grantedMinutes: 60,
    });
  });

  it('over-max-duration: a window longer than the target allows, even if consistent', () => {
    const grant = approvedGrant({ durationMinutes: 600, expiresAt: '2026-11-23T20:00:00Z' });
    expectRefused(checkGrantAuthority(grant, context()), {
      reason: 'over-max-duration',
      minutes: 600,
      max: 240,
    });
  });

  it('over-max-total: extensions already applied take the grant past maxTotal', () => {
    const grant = approvedGrant({
      status: 'active',
      extendedMinutes: 240,
      expiresAt: '2026-11-23T15:00:00Z',
    });
    expectRefused(checkGrantAuthority(grant, context({}, { maxTotalMinutes: 240 })), {
      reason: 'over-max-total',
      minutes: 300,
      max: 240,
    });
  });

  it('self-approval: the requester approved their own request', () => {
    const grant = approvedGrant({ history: [approvedGrant().history[0]!, approvalEntry('U0ALICE')] });
    expectRefused(checkGrantAuthority(grant, context({}, { approvers: ['U0CAROL', 'U0ALICE'] })), {
      reason: 'self-approval',
      requester: 'U0ALICE',
    });
  });

  it('too-few-approvals: the approval is by someone who is not an approver', () => {
    const grant = approvedGrant({ history: [approvedGrant().history[0]!, approvalEntry('U0BOB')] });
    expectRefused(checkGrantAuthority(grant, context()), {
      reason: 'too-few-approvals',
      have: 0,
      need: 1,
      notApprovers: ['U0BOB'],
    });
  });

  it('too-few-approvals: the same approver twice counts once', () => {
    const grant = approvedGrant({
      history: [approvedGrant().history[0]!, recorded('U0CAROL'), approvalEntry('U0CAROL')],
    });
    expectRefused(checkGrantAuthority(grant, context({}, { approvals: 2 })), {
      reason: 'too-few-approvals',
      have: 1,
      need: 2,
    });
  });

  it('too-few-approvals: an approver removed from the configuration no longer counts', () => {
    expectRefused(checkGrantAuthority(approvedGrant(), context({}, { approvers: ['S0SREGROUP'] })), {
      reason: 'too-few-approvals',
      notApprovers: ['U0CAROL'],
    });
  });

  it('approvers-unresolved: fails closed when a group Slack could not resolve might hold the approver', () => {
    const grant = approvedGrant({ history: [approvedGrant().history[0]!, approvalEntry('U0DAVE')] });
    const groups = { members: new Map(), unresolved: new Set(['S0SREGROUP']) };
    expectRefused(checkGrantAuthority(grant, context({ groups })), {
      reason: 'approvers-unresolved',
      groups: ['S0SREGROUP'],
    });
  });
});

describe('checkExtensionAuthority', () => {
  const EXT_REQUESTED = '2026-11-23T10:50:00Z';
  const EXT_APPROVED = '2026-11-23T10:52:00Z';
  /** alice's active 1h grant, with a 1h extension she asked for and carol approved. */
  function extended(overrides: Partial<Grant> = {}, approver = 'U0CAROL'): Grant {
    const base = approvedGrant();
    return {
      ...base,
      status: 'active',
      policyArn: POLICY,
      extension: {
        minutes: 60,
        requestedBy: 'U0ALICE',
        requestedAt: EXT_REQUESTED,
        approvals: [{ by: approver, at: EXT_APPROVED }],
        state: 'approved',
        newExpiresAt: '2026-11-23T12:00:00Z',
        decidedBy: approver,
        decidedAt: EXT_APPROVED,
      },
      history: [
        ...base.history,
        { at: APPROVED, from: 'approved', to: 'active', by: 'keyturn' },
        { at: EXT_REQUESTED, from: 'active', to: 'active', event: 'extension-requested', by: 'U0ALICE' },
        { at: EXT_APPROVED, from: 'active', to: 'active', event: 'extension-approved', by: approver },
      ],
      ...overrides,
    };
  }

  it('allows an extension recorded as Keyturn records it', () => {
    expect(checkExtensionAuthority(extended(), context())).toEqual({ outcome: 'allow' });
  });

  it('refuses when the grant underneath does not hold up', () => {
    expectRefused(
      checkExtensionAuthority(extended({ principal: { kind: 'user', name: 'admin' } }), context()),
      {
        reason: 'principal-not-mapped',
      },
    );
  });

  it("allows it though the grant's original approver has left the approvers since", () => {
    const grant = extended({}, 'U0DAVE');
    expect(checkExtensionAuthority(grant, context({}, { approvers: ['S0SREGROUP'] }))).toEqual({
      outcome: 'allow',
    });
  });

  it('no-extension-request: the history never asked for one', () => {
    const grant = extended();
    expectRefused(
      checkExtensionAuthority(
        { ...grant, history: grant.history.filter((e) => e.event !== 'extension-requested') },
        context(),
      ),
      { reason: 'no-extension-request' },
    );
  });

  it('extension-window-mismatch: the new expiry is not the old one plus what was asked', () => {
    const grant = extended();
    const tampered = { ...grant, extension: { ...grant.extension!, newExpiresAt: '2036-01-01T00:00:00Z' } };
    expectRefused(checkExtensionAuthority(tampered, context()), {
      reason: 'extension-window-mismatch',
      expected: '2026-11-23T12:00:00Z',
    });
  });

  it('over-max-total: the extension takes the grant past maxTotal', () => {
    const grant = extended();
    const long = {
      ...grant,
      extension: { ...grant.extension!, minutes: 240, newExpiresAt: '2026-11-23T15:00:00Z' },
    };
    expectRefused(checkExtensionAuthority(long, context()), {
      reason: 'over-max-total',
      minutes: 300,
      max: 240,
    });
  });

  it('self-approval: the requester approved their own extension', () => {
    expectRefused(checkExtensionAuthority(extended({}, 'U0ALICE'), context()), { reason: 'self-approval' });
  });

  it("too-few-approvals: the grant's original approval does not count for the extension", () => {
    const grant = extended();
    const noExtensionApproval = {
      ...grant,
      history: grant.history.filter((e) => e.event !== 'extension-approved'),
    };
    expectRefused(checkExtensionAuthority(noExtensionApproval, context()), {
      reason: 'too-few-approvals',
      have: 0,
      need: 1,
    });
  });
});

describe('checkApprovals', () => {
  const groups = { members: new Map([['S0SREGROUP', ['U0DAVE']]]), unresolved: new Set<string>() };
  it('counts a directly listed approver even while a group is unresolved', () => {
    expect(
      checkApprovals({
        approvers: ['U0CAROL'],
        requester: 'U0ALICE',
        target: prodRaspi,
        groups: { members: new Map(), unresolved: new Set(['S0SREGROUP']) },
      }),
    ).toEqual({ outcome: 'allow' });
  });

  it('refuses no approvals at all', () => {
    expect(checkApprovals({ approvers: [], requester: 'U0ALICE', target: prodRaspi, groups })).toMatchObject({
      outcome: 'refuse',
      reason: 'too-few-approvals',
      have: 0,
      need: 1,
    });
  });
});

describe('isCurrentPrincipal', () => {
  it('is true only for exactly the mapped principal', () => {
    expect(isCurrentPrincipal({ kind: 'user', name: 'alice' }, { kind: 'user', name: 'alice' })).toBe(true);
    expect(isCurrentPrincipal({ kind: 'user', name: 'alice' }, { kind: 'user', name: 'Alice' })).toBe(false);
    expect(isCurrentPrincipal(undefined, { kind: 'user', name: 'alice' })).toBe(false);
    const alices = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' } as const;
    expect(isCurrentPrincipal(alices, { ...alices })).toBe(true);
    expect(isCurrentPrincipal(alices, { ...alices, sessionName: 'bob' })).toBe(false);
    expect(isCurrentPrincipal(alices, { kind: 'role', name: 'keyturn-u0alice' })).toBe(false);
  });
});
