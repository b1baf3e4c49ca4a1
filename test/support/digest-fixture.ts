import type { Anomaly } from '../../src/domain/anomaly';
import { type DigestInput, type DigestRun, localDay } from '../../src/domain/digest';
import type { Grant, GrantStatus, HistoryEntry } from '../../src/domain/grant';
import type { Session } from '../../src/domain/session';
import { testConfig } from './fakes';
import { FACTORY, orgConfig } from './org-config';
import { principalOfUser } from '../../src/domain/person';

/**
 * One fixed day of Keyturn activity: Monday 2026-11-23 in Asia/Tokyo, which runs from
 * 2026-11-22T15:00Z to 2026-11-23T15:00Z. Items just outside the day are included on purpose.
 */
export const DAY = localDay('2026-11-23', 'Asia/Tokyo');
/** 09:00 Tokyo on the 24th, when the digest runs. */
export const DIGEST_NOW = '2026-11-24T00:00:00.000Z';
export const ACCOUNT = '123456789012';

const config = testConfig();

function grant(
  id: string,
  requester: string,
  target: string,
  requestedAt: string,
  status: GrantStatus,
  extra: Partial<Grant> = {},
): Grant {
  const principal = principalOfUser(config.people, requester) ?? {
    kind: 'user' as const,
    name: requester.toLowerCase(),
  };
  const history: HistoryEntry[] = [{ at: requestedAt, from: null, to: 'pending', by: requester }];
  return {
    id,
    requester,
    principal,
    target,
    durationMinutes: 60,
    reason: 'fixture',
    status,
    version: 1,
    requestedAt,
    approvals: [],
    history,
    ...extra,
  };
}

export const grants: Grant[] = [
  grant('g1', 'U0ALICE', 'prod-raspi', '2026-11-23T00:10:00Z', 'expired', {
    decidedAt: '2026-11-23T00:14:00Z',
    startsAt: '2026-11-23T00:14:00Z',
    expiresAt: '2026-11-23T01:44:00Z',
    history: [
      { at: '2026-11-23T00:10:00Z', from: null, to: 'pending', by: 'U0ALICE' },
      { at: '2026-11-23T00:14:00Z', from: 'pending', to: 'approved', by: 'U0CAROL' },
      { at: '2026-11-23T00:14:05Z', from: 'approved', to: 'active', by: 'keyturn' },
      {
        at: '2026-11-23T01:00:00Z',
        from: 'active',
        to: 'active',
        event: 'extension-requested',
        by: 'U0ALICE',
      },
      { at: '2026-11-23T01:05:00Z', from: 'active', to: 'active', event: 'extended', by: 'U0CAROL' },
      { at: '2026-11-23T01:44:10Z', from: 'active', to: 'expired', by: 'keyturn' },
    ],
  }),
  grant('g2', 'U0BOB', 'staging-web', '2026-11-23T02:00:00Z', 'denied', {
    decidedAt: '2026-11-23T02:30:00Z',
  }),
  grant('g3', 'U0DAVE', 'prod-raspi', '2026-11-23T03:00:00Z', 'lapsed'),
  grant('g4', 'U0ALICE', 'prod-raspi', '2026-11-23T04:00:00Z', 'cancelled'),
  grant('g5', 'U0BOB', 'prod-raspi', '2026-11-23T05:00:00Z', 'failed', { decidedAt: '2026-11-23T05:01:00Z' }),
  grant('g6', 'U0ALICE', 'prod-raspi', '2026-11-23T14:30:00Z', 'pending'),
  // Requested the day before (14:00Z is 23:00 Tokyo on the 22nd); its extension was denied inside the day.
  grant('g0', 'U0BOB', 'staging-web', '2026-11-22T14:00:00Z', 'active', {
    decidedAt: '2026-11-22T14:05:00Z',
    startsAt: '2026-11-22T14:05:00Z',
    expiresAt: '2026-11-24T01:00:00Z',
    history: [
      { at: '2026-11-22T14:00:00Z', from: null, to: 'pending', by: 'U0BOB' },
      { at: '2026-11-22T15:30:00Z', from: 'active', to: 'active', event: 'extension-denied', by: 'U0CAROL' },
    ],
  }),
  // The next Tokyo day.
  grant('g7', 'U0ALICE', 'prod-raspi', '2026-11-23T15:00:00Z', 'pending'),
];

function session(id: string, fields: Partial<Session>): Session {
  return {
    id,
    version: 3,
    status: 'ended',
    firstSeenAt: fields.startedAt ?? '2026-11-23T00:00:00.000Z',
    ...fields,
  };
}

export const sessions: Session[] = [
  session('alice-0000000000000000a', {
    owner: `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0alice/alice`,
    node: { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1' },
    document: 'shell',
    startedAt: '2026-11-23T00:20:00.000Z',
    endedAt: '2026-11-23T01:50:00.000Z',
    grantId: 'g1',
  }),
  session('alice-0000000000000000b', {
    owner: `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0alice/alice`,
    node: { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2' },
    document: 'ssh',
    startedAt: '2026-11-23T00:30:00.000Z',
    endedAt: '2026-11-23T00:40:00.000Z',
    grantId: 'g1',
  }),
  session('bob-0000000000000000c', {
    owner: `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0bob/bob`,
    node: { id: 'i-0123456789abcdef0', name: 'web-1' },
    document: 'shell',
    startedAt: '2026-11-22T15:10:00.000Z',
    endedAt: '2026-11-22T15:40:00.000Z',
    grantId: 'g0',
  }),
  session('mallory-0000000000000000d', {
    owner: `arn:aws:iam::${ACCOUNT}:user/mallory`,
    node: { id: 'i-0fedcba9876543210', name: 'build-runner-1' },
    document: 'shell',
    startedAt: '2026-11-23T10:00:00.000Z',
    endedAt: '2026-11-23T10:05:00.000Z',
    unmatched: true,
  }),
  session('bob-0000000000000000e', {
    status: 'active',
    owner: `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0bob/bob`,
    node: { id: 'i-0123456789abcdef1', name: 'web-2' },
    document: 'port-forward',
    startedAt: '2026-11-23T14:55:00.000Z',
    grantId: 'g0',
  }),
  // One second before the Tokyo day.
  session('alice-0000000000000000f', {
    owner: `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0alice/alice`,
    node: { id: 'mi-0a1b2c3d4e5f60001' },
    document: 'shell',
    startedAt: '2026-11-22T14:59:59.000Z',
    endedAt: '2026-11-22T15:20:00.000Z',
    grantId: 'g0',
  }),
];

export const runs: DigestRun[] = [
  {
    id: 'r1',
    snippet: 'disk',
    target: 'prod-raspi',
    requester: 'U0ALICE',
    at: '2026-11-23T06:00:00Z',
    outcome: 'succeeded',
    nodeCount: 4,
    failedCount: 0,
    failedNodes: [],
  },
  {
    id: 'r2',
    snippet: 'logs',
    target: 'prod-raspi',
    requester: 'U0BOB',
    at: '2026-11-23T07:00:00Z',
    outcome: 'partial',
    nodeCount: 4,
    failedCount: 2,
    failedNodes: ['raspi-line-3', 'raspi-line-4'],
  },
  {
    id: 'r3',
    snippet: 'restart-agent',
    target: 'prod-raspi',
    requester: 'U0DAVE',
    at: '2026-11-23T08:00:00Z',
    outcome: 'failed',
    nodeCount: 0,
    failedCount: 0,
    failedNodes: [],
    reason: 'SendCommand failed with AccessDeniedException',
  },
  {
    id: 'r4',
    snippet: 'restart-agent',
    target: 'prod-raspi',
    requester: 'U0BOB',
    at: '2026-11-23T08:30:00Z',
    outcome: 'denied',
    nodeCount: 0,
    failedCount: 0,
    failedNodes: [],
  },
];

export const anomalies: Anomaly[] = [
  {
    kind: 'sessions-not-ended',
    at: '2026-11-23T01:44:10.000Z',
    grantId: 'g1',
    requester: 'U0ALICE',
    target: 'prod-raspi',
    sessionIds: ['alice-0000000000000000a', 'alice-0000000000000000x'],
  },
  {
    kind: 'orphan-policy-removed',
    at: '2026-11-23T09:00:00.000Z',
    policyArn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-zz9`,
    grantId: 'zz9',
    detachedFrom: [{ kind: 'user', name: 'alice' }],
  },
  {
    kind: 'revoke-failed',
    at: '2026-11-23T03:10:00.000Z',
    grantId: 'g0',
    requester: 'U0BOB',
    target: 'staging-web',
    error: 'IAM DetachUserPolicy failed with ServiceFailure (token xoxb-1234-5678-abcdefgh)',
  },
  // The next Tokyo day.
  {
    kind: 'orphan-policy-removed',
    at: '2026-11-23T15:00:00.000Z',
    policyArn: `arn:aws:iam::${ACCOUNT}:policy/keyturn/keyturn-zz8`,
    detachedFrom: [],
  },
];

export const activeNow: Grant[] = [
  grants.find((g) => g.id === 'g0') as Grant,
  grant('g8', 'U0ALICE', 'prod-raspi', '2026-11-23T23:00:00Z', 'active', {
    startsAt: '2026-11-23T23:01:00Z',
    expiresAt: '2026-11-24T00:01:00Z',
    ending: { status: 'released', by: 'U0ALICE', at: '2026-11-23T23:59:00Z' },
  }),
];

export function fixedDayInput(): DigestInput {
  return {
    day: DAY,
    now: DIGEST_NOW,
    account: config.aws,
    people: config.people,
    grants,
    sessions,
    runs,
    anomalies,
    activeNow,
  };
}

/**
 * The same day in an organisation: g1 (with its two sessions) and run r1 were on the Osaka line in the
 * factory account; the rest were recorded before there were other accounts, so they are Keyturn's own.
 */
export function orgDayInput(): DigestInput {
  const osaka = { target: 'osaka-raspi', account: FACTORY, region: 'ap-northeast-3' };
  const day = fixedDayInput();
  return {
    ...day,
    account: orgConfig().aws,
    grants: day.grants.map((g) => (g.id === 'g1' ? { ...g, ...osaka } : g)),
    runs: day.runs.map((r) => (r.id === 'r1' ? { ...r, ...osaka } : r)),
  };
}
