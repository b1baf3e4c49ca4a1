import fc from 'fast-check';
import type { Grant } from '../../../src/domain/grant';
import type { Person } from '../../../src/domain/person';
import type { AwsAccount } from '../../../src/domain/principal';
import {
  documentKind,
  END_GRACE_MS,
  endFinal,
  inGrantWindow,
  isTranscribed,
  matchGrant,
  observeSession,
  peopleOwning,
  type Session,
  type SessionObservation,
  sessionChanged,
  sessionDue,
  sessionEnding,
  sessionMinutes,
  STUB_GIVE_UP_MS,
} from '../../../src/domain/session';

const ACCOUNT = '123456789012';
const AWS: AwsAccount = { partition: 'aws', accountId: ACCOUNT };
const ALICE_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
const KEYTURN_ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-prod/keyturn-prod-sweeper`;
const NODE = 'mi-0a1b2c3d4e5f60001';
const ID = 'alice-0a1b2c3d4e5f6a7b8';

const start: SessionObservation = {
  source: 'start-call',
  id: ID,
  owner: ALICE_ARN,
  nodeId: NODE,
  at: '2026-11-23T10:05:00Z',
};
const terminate: SessionObservation = {
  source: 'terminate-call',
  id: ID,
  by: ALICE_ARN,
  at: '2026-11-23T10:35:00Z',
};
const history: SessionObservation = {
  source: 'history',
  session: {
    id: ID,
    owner: ALICE_ARN,
    nodeId: NODE,
    startedAt: '2026-11-23T10:05:00.412Z',
    endedAt: '2026-11-23T10:35:01.100Z',
    documentName: 'SSM-SessionManagerRunShell',
    outputUrl: 'https://console.aws.amazon.com/cloudwatch/home#logEventViewer:group=ssm;stream=alice-0a1b',
  },
};
const active: SessionObservation = {
  source: 'active',
  session: { id: ID, owner: ALICE_ARN, nodeId: NODE, startedAt: '2026-11-23T10:05:00.412Z' },
};

function grant(overrides: Partial<Grant> = {}): Grant {
  return {
    id: 'g1',
    requester: 'U0ALICE',
    principal: { kind: 'user', name: 'alice' },
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: 'fix',
    status: 'active',
    version: 3,
    requestedAt: '2026-11-23T09:58:00Z',
    approvals: [{ by: 'U0CAROL', at: '2026-11-23T10:00:00Z' }],
    startsAt: '2026-11-23T10:00:00Z',
    expiresAt: '2026-11-23T11:00:00Z',
    history: [],
    ...overrides,
  };
}

function apply(...observations: SessionObservation[]): Session {
  let s: Session | undefined;
  for (const obs of observations) s = observeSession(s, obs, '2026-11-23T10:40:00Z');
  if (!s) throw new Error('no observations');
  return s;
}

describe('documentKind', () => {
  it.each([
    [undefined, 'shell'],
    ['', 'shell'],
    ['SSM-SessionManagerRunShell', 'shell'],
    ['AWS-StartSSHSession', 'ssh'],
    ['AWS-StartPortForwardingSession', 'port-forward'],
    ['AWS-StartPortForwardingSessionToRemoteHost', 'port-forward'],
    ['AWS-StartInteractiveCommand', 'other'],
    ['SSM-sudo', 'other'],
  ])('%p is %p', (name, kind) => {
    expect(documentKind(name)).toBe(kind);
  });

  it('only shell sessions are transcribed by session logging', () => {
    expect(isTranscribed('shell')).toBe(true);
    expect(isTranscribed('ssh')).toBe(false);
    expect(isTranscribed('port-forward')).toBe(false);
  });
});

describe('observeSession', () => {
  it('start then end: owner, node, document, start and end, ended by its owner', () => {
    const s = apply(start, terminate);
    expect(s).toMatchObject({
      id: ID,
      status: 'ended',
      owner: ALICE_ARN,
      node: { id: NODE },
      document: 'shell',
      startedAt: '2026-11-23T10:05:00.000Z',
      endedAt: '2026-11-23T10:35:00.000Z',
      end: { kind: 'api-call', by: ALICE_ARN },
    });
  });

  it('an end before its start: the start fills in and the session stays ended', () => {
    const s = apply(terminate, start);
    expect(s.status).toBe('ended');
    expect(s.startedAt).toBe('2026-11-23T10:05:00.000Z');
    expect(s.endedAt).toBe('2026-11-23T10:35:00.000Z');
  });

  it('an ended session never goes back to active', () => {
    expect(apply(start, terminate, active, start).status).toBe('ended');
    expect(apply(history, active).status).toBe('ended');
  });

  it('History is SSM’s own record: it corrects the times and brings the log location', () => {
    const s = apply(start, terminate, history);
    expect(s.startedAt).toBe('2026-11-23T10:05:00.412Z');
    expect(s.endedAt).toBe('2026-11-23T10:35:01.100Z');
    expect(s.outputUrl).toContain('cloudwatch');
    expect(s.historyAt).toBeDefined();
    // The call still says who ended it.
    expect(s.end).toEqual({ kind: 'api-call', by: ALICE_ARN });
  });

  it('an end seen only in History came with no API call; a late TerminateSession event still names the caller', () => {
    expect(apply(active, history).end).toEqual({ kind: 'no-api-call' });
    expect(apply(active, history, { ...terminate, by: KEYTURN_ROLE }).end).toEqual({
      kind: 'api-call',
      by: KEYTURN_ROLE,
    });
  });

  it('missing, then vanished: ended at the time it went missing; seen again clears missing', () => {
    const missing = apply(active, { source: 'missing', id: ID, at: '2026-11-23T10:20:00Z' });
    expect(missing).toMatchObject({ status: 'active', missingSince: '2026-11-23T10:20:00.000Z' });
    expect(observeSession(missing, active, '2026-11-23T10:21:00Z').missingSince).toBeUndefined();
    const gone = observeSession(missing, { source: 'vanished', id: ID, at: '2026-11-23T10:31:00Z' }, 'x');
    expect(gone).toMatchObject({
      status: 'ended',
      endedAt: '2026-11-23T10:20:00.000Z',
      end: { kind: 'vanished' },
    });
  });

  it('an end clears a missing mark, whatever told of it', () => {
    const missing = apply(active, { source: 'missing', id: ID, at: '2026-11-23T10:20:00Z' });
    expect(observeSession(missing, terminate, 'x').missingSince).toBeUndefined();
    expect(observeSession(missing, history, 'x').missingSince).toBeUndefined();
  });

  it('a duplicate observation changes nothing', () => {
    const once = apply(start, terminate);
    expect(sessionChanged(once, observeSession(once, terminate, '2026-11-23T11:00:00Z'))).toBe(false);
    expect(sessionChanged(once, observeSession(once, start, '2026-11-23T11:00:00Z'))).toBe(false);
    expect(sessionChanged(once, observeSession(once, history, '2026-11-23T11:00:00Z'))).toBe(true);
  });

  it('any order of the same observations ends in the same session (status, start, end, how)', () => {
    const all = [start, active, terminate, history, { ...terminate, at: '2026-11-23T10:35:02Z' }];
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }), (order) => {
        const s = apply(...order);
        expect(s.status).toBe('ended');
        expect(s.startedAt).toBe('2026-11-23T10:05:00.412Z');
        expect(s.endedAt).toBe('2026-11-23T10:35:01.100Z');
        expect(s.end).toEqual({ kind: 'api-call', by: ALICE_ARN });
        expect(s.node).toEqual({ id: NODE });
      }),
    );
  });
});

describe('matchGrant', () => {
  const nodes = new Set([NODE]);
  const at = '2026-11-23T10:05:00Z';

  it('matches when the principal owns it, the node carries the tags and it started inside the window', () => {
    expect(
      matchGrant({ owner: ALICE_ARN, nodeId: NODE, startedAt: at }, [{ grant: grant(), nodeIds: nodes }], AWS)
        ?.id,
    ).toBe('g1');
  });

  it.each([
    ['another principal', { owner: `arn:aws:iam::${ACCOUNT}:user/bob` }],
    ['a node outside the target', { nodeId: 'i-0123456789abcdef0' }],
    ['a start before the window', { startedAt: '2026-11-23T09:59:59Z' }],
    ['a start after expiry', { startedAt: '2026-11-23T11:00:01Z' }],
  ])('does not match %s', (_what, change) => {
    const s = { owner: ALICE_ARN, nodeId: NODE, startedAt: at, ...change };
    expect(matchGrant(s, [{ grant: grant(), nodeIds: nodes }], AWS)).toBeUndefined();
  });

  it('a role grant matches sessions of whoever assumed the role', () => {
    const g = grant({ principal: { kind: 'role', name: 'oncall-dave' } });
    const owner = `arn:aws:sts::${ACCOUNT}:assumed-role/oncall-dave/dave@example.com`;
    expect(matchGrant({ owner, nodeId: NODE, startedAt: at }, [{ grant: g, nodeIds: nodes }], AWS)?.id).toBe(
      'g1',
    );
  });

  it('an access-role grant matches only its own pinned session name on that access role', () => {
    const g = grant({ principal: { kind: 'access-role', name: 'keyturn-u0dave', sessionName: 'dave' } });
    const owner = (name: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/keyturn-u0dave/${name}`;
    const match = (o: string) =>
      matchGrant({ owner: o, nodeId: NODE, startedAt: at }, [{ grant: g, nodeIds: nodes }], AWS);
    expect(match(owner('dave'))?.id).toBe('g1');
    expect(match(owner('dave-admin'))).toBeUndefined();
    expect(match(`arn:aws:sts::${ACCOUNT}:assumed-role/oncall/dave`)).toBeUndefined();
  });

  it('of two overlapping grants, the one approved last', () => {
    const older = grant({ id: 'old', startsAt: '2026-11-23T09:00:00Z', expiresAt: '2026-11-23T12:00:00Z' });
    const newer = grant({ id: 'new', startsAt: '2026-11-23T10:01:00Z' });
    const candidates = [
      { grant: older, nodeIds: nodes },
      { grant: newer, nodeIds: nodes },
    ];
    expect(matchGrant({ owner: ALICE_ARN, nodeId: NODE, startedAt: at }, candidates, AWS)?.id).toBe('new');
  });

  it('a newer grant the worker failed before it took effect (no policy ever attached) does not take the session from the active one', () => {
    const active = grant({
      id: 'active',
      startsAt: '2026-11-23T09:00:00Z',
      expiresAt: '2026-11-23T12:00:00Z',
    });
    const failed = grant({
      id: 'failed',
      status: 'failed',
      startsAt: '2026-11-23T10:01:00Z',
      history: [
        { from: 'pending', to: 'approved', at: '2026-11-23T10:01:00Z', by: 'U0CAROL' },
        { from: 'approved', to: 'failed', at: '2026-11-23T10:01:05Z', by: 'keyturn' },
      ],
    });
    const candidates = [
      { grant: active, nodeIds: nodes },
      { grant: failed, nodeIds: nodes },
    ];
    expect(matchGrant({ owner: ALICE_ARN, nodeId: NODE, startedAt: at }, candidates, AWS)?.id).toBe('active');
  });

  it('a grant in one account explains sessions in that account only, though the access role has the same name in each', () => {
    const member = '444455556666';
    const role = { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' } as const;
    const owner = (account: string) => `arn:aws:sts::${account}:assumed-role/keyturn-u0alice/alice`;
    const inMember = grant({ id: 'member', principal: role, account: member, region: 'ap-northeast-3' });
    const atHome = grant({ id: 'home', principal: role });
    const match = (accountId: string, candidates: Grant[]) =>
      matchGrant(
        { owner: owner(accountId), nodeId: NODE, startedAt: at, accountId },
        candidates.map((g) => ({ grant: g, nodeIds: nodes })),
        AWS,
      )?.id;
    expect(match(member, [inMember])).toBe('member');
    expect(match(ACCOUNT, [inMember])).toBeUndefined();
    expect(match(member, [atHome])).toBeUndefined();
    expect(match(ACCOUNT, [atHome, inMember])).toBe('home');
    // A session whose owner is the member account's role but reported in Keyturn's own account: neither.
    expect(
      matchGrant(
        { owner: owner(member), nodeId: NODE, startedAt: at },
        [inMember, atHome].map((g) => ({ grant: g, nodeIds: nodes })),
        AWS,
      ),
    ).toBeUndefined();
  });

  it('a grant never approved has no window', () => {
    expect(inGrantWindow(grant({ startsAt: undefined, expiresAt: undefined }), at)).toBe(false);
  });
});

describe('peopleOwning', () => {
  const person = (
    user: string,
    identity: Person['identity'],
    attach: Person['attach'] = 'access-role',
  ): Person => ({
    user,
    identity,
    attach,
  });

  it('names every Slack user mapped to a directly attached principal', () => {
    const people = {
      U0ALICE: person('U0ALICE', { kind: 'iam-user', name: 'alice', path: '/' }, 'direct'),
      U0DAVE: person('U0DAVE', { kind: 'iam-role', name: 'oncall' }, 'direct'),
      U0ERIN: person('U0ERIN', { kind: 'iam-role', name: 'oncall' }, 'direct'),
    };
    expect(peopleOwning(ALICE_ARN, people, AWS)).toEqual(['U0ALICE']);
    expect(peopleOwning(`arn:aws:sts::${ACCOUNT}:assumed-role/oncall/x`, people, AWS)).toEqual([
      'U0DAVE',
      'U0ERIN',
    ]);
    expect(peopleOwning(`arn:aws:iam::${ACCOUNT}:user/mallory`, people, AWS)).toEqual([]);
  });

  it('names exactly one person per access-role session, even when two share a role', () => {
    const people = {
      U0ALICE: person('U0ALICE', { kind: 'iam-user', name: 'alice', path: '/' }),
      U0DAVE: person('U0DAVE', { kind: 'iam-role', name: 'oncall', sessionName: 'dave' }),
      U0ERIN: person('U0ERIN', { kind: 'iam-role', name: 'oncall', sessionName: 'erin' }),
      U0CAROL: person('U0CAROL', { kind: 'identity-center', userName: 'carol@example.com' }),
    };
    const owner = (role: string, name: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`;
    expect(peopleOwning(owner('keyturn-u0alice', 'alice'), people, AWS)).toEqual(['U0ALICE']);
    expect(peopleOwning(owner('keyturn-u0dave', 'dave'), people, AWS)).toEqual(['U0DAVE']);
    expect(peopleOwning(owner('keyturn-u0erin', 'erin'), people, AWS)).toEqual(['U0ERIN']);
    expect(peopleOwning(owner('keyturn-u0carol', 'carol@example.com'), people, AWS)).toEqual(['U0CAROL']);
    // The shared role's own sessions are nobody's grant: grants live on the access roles.
    expect(peopleOwning(owner('oncall', 'dave'), people, AWS)).toEqual([]);
    // Another session name on alice's access role is not hers (her trust policy pins the name).
    expect(peopleOwning(owner('keyturn-u0alice', 'alice-admin'), people, AWS)).toEqual([]);
    // Her IAM user's own sessions are not through Keyturn.
    expect(peopleOwning(ALICE_ARN, people, AWS)).toEqual([]);
  });

  it('matches a directly attached IAM user with a path by the Owner that carries it', () => {
    const people = {
      U0ERIN: person('U0ERIN', { kind: 'iam-user', name: 'erin', path: '/engineering/' }, 'direct'),
    };
    expect(peopleOwning(`arn:aws:iam::${ACCOUNT}:user/engineering/erin`, people, AWS)).toEqual(['U0ERIN']);
  });

  it('matches in the aws-cn and aws-us-gov partitions', () => {
    const people = { U0ALICE: person('U0ALICE', { kind: 'iam-user', name: 'alice', path: '/' }) };
    for (const partition of ['aws-cn', 'aws-us-gov'] as const) {
      const owner = `arn:${partition}:sts::${ACCOUNT}:assumed-role/keyturn-u0alice/alice`;
      expect(peopleOwning(owner, people, { partition, accountId: ACCOUNT })).toEqual(['U0ALICE']);
      expect(peopleOwning(owner, people, AWS)).toEqual([]);
    }
  });
});

describe('sessionEnding', () => {
  const ended = apply(start, { ...terminate, by: KEYTURN_ROLE });

  it('its owner ended it: exited', () => {
    expect(sessionEnding(apply(start, terminate), grant())).toEqual({ kind: 'exited', by: ALICE_ARN });
  });

  it('ended once its grant was ending: Keyturn ended it, for the grant’s reason', () => {
    const expired = grant({ ending: { status: 'expired', by: 'keyturn', at: '2026-11-23T10:34:59Z' } });
    expect(sessionEnding(ended, expired)).toEqual({ kind: 'grant-ended', status: 'expired', by: 'keyturn' });
    const revoked = grant({
      ending: { status: 'revoked', by: 'U0CAROL', at: '2026-11-23T10:30:00Z', reason: 'incident over' },
    });
    expect(sessionEnding(apply(active, history), revoked)).toEqual({
      kind: 'grant-ended',
      status: 'revoked',
      by: 'U0CAROL',
      reason: 'incident over',
    });
  });

  it('before the grant was ending: someone else terminated it, or no API call did', () => {
    const later = grant({ ending: { status: 'expired', by: 'keyturn', at: '2026-11-23T11:00:00Z' } });
    expect(sessionEnding(ended, later)).toEqual({ kind: 'terminated', by: KEYTURN_ROLE });
    expect(sessionEnding(apply(active, history), later)).toEqual({ kind: 'no-api-call' });
    expect(
      sessionEnding(apply(active, { source: 'vanished', id: ID, at: '2026-11-23T10:30:00Z' }), undefined),
    ).toEqual({
      kind: 'unknown',
    });
  });
});

describe('sessionDue', () => {
  const matched = (s: Session): Session => ({ ...s, grantId: 'g1' });

  it('an open matched session: the start line, once', () => {
    const s = matched(apply(start));
    expect(sessionDue(s, '2026-11-23T10:06:00Z')).toEqual({
      startReply: true,
      summary: false,
      anomaly: false,
      settle: false,
    });
    expect(sessionDue({ ...s, startPostedAt: 'x' }, '2026-11-23T10:06:00Z').startReply).toBe(false);
  });

  it('an end waits for History (the log location) up to END_GRACE_MS, then the summary goes out and it settles', () => {
    const s = matched(apply(start, terminate));
    const endedAt = Date.parse(s.endedAt as string);
    const before = new Date(endedAt + END_GRACE_MS - 1).toISOString();
    const after = new Date(endedAt + END_GRACE_MS).toISOString();
    expect(endFinal(s, before)).toBe(false);
    expect(sessionDue(s, before)).toMatchObject({ summary: false, settle: false, startReply: false });
    expect(sessionDue(s, after)).toMatchObject({ summary: true, settle: true });
    expect(sessionDue(matched(apply(start, terminate, history)), before)).toMatchObject({
      summary: true,
      settle: true,
    });
  });

  it('a session no grant explains: the anomaly, once; no thread messages', () => {
    const s: Session = { ...apply(start), unmatched: true };
    expect(sessionDue(s, '2026-11-23T10:06:00Z')).toMatchObject({
      anomaly: true,
      startReply: false,
      summary: false,
    });
    expect(sessionDue({ ...s, anomalyPostedAt: 'x' }, '2026-11-23T10:06:00Z').anomaly).toBe(false);
  });

  it('a session known only from its end is given up on after STUB_GIVE_UP_MS, with nothing posted', () => {
    const stub = apply(terminate);
    const first = Date.parse(stub.firstSeenAt);
    expect(sessionDue(stub, new Date(first + STUB_GIVE_UP_MS - 1).toISOString()).settle).toBe(false);
    expect(sessionDue(stub, new Date(first + STUB_GIVE_UP_MS).toISOString())).toEqual({
      startReply: false,
      summary: false,
      anomaly: false,
      settle: true,
    });
  });
});

describe('sessionMinutes', () => {
  it('rounds to the nearest minute; an open session counts up to now', () => {
    expect(sessionMinutes(apply(start, terminate), 'unused')).toBe(30);
    expect(sessionMinutes(apply(start), '2026-11-23T10:07:31Z')).toBe(3);
    expect(sessionMinutes(apply(terminate), '2026-11-23T12:00:00Z')).toBe(0);
  });
});
