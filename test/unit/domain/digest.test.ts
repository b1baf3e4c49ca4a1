import {
  composeDigest,
  type DigestInput,
  finishDigest,
  foldGrants,
  foldSessions,
  startDigest,
} from '../../../src/domain/digest';
import { localDay } from '../../../src/domain/digest-day';
import { digestText } from '../../../src/domain/digest-text';
import type { Grant } from '../../../src/domain/grant';
import type { Session } from '../../../src/domain/session';
import { ACCOUNT, DAY, fixedDayInput, grants, orgDayInput } from '../../support/digest-fixture';
import { testConfig } from '../../support/fakes';
import { FACTORY } from '../../support/org-config';

const empty = (): DigestInput => ({
  ...fixedDayInput(),
  grants: [],
  sessions: [],
  runs: [],
  anomalies: [],
  activeNow: [],
});

describe('composeDigest: a fixed day in Asia/Tokyo', () => {
  const view = composeDigest(fixedDayInput());

  it('counts the day’s requests by outcome, and the time to decision', () => {
    expect(view.requests.total).toBe(6);
    expect(view.requests.outcomes).toEqual({
      approved: 1,
      denied: 1,
      lapsed: 1,
      cancelled: 1,
      failed: 1,
      pending: 1,
    });
    // g5 1m, g1 4m, g2 30m.
    expect(view.requests.decision).toEqual({ count: 3, medianSeconds: 240, maxSeconds: 1800 });
  });

  it('counts extension events inside the day, including on a grant requested the day before', () => {
    expect(view.extensions).toEqual({ requested: 1, extended: 1, denied: 1 });
  });

  it('sessions: count, total time, by person, by target, longest (open ones count up to now)', () => {
    const s = view.sessions;
    expect(s.count).toBe(5);
    expect(s.open).toBe(1);
    // 90m + 10m + 30m + 5m + 9h05m (bob's port forward, still open at 09:00 Tokyo).
    expect(s.seconds).toBe((90 + 10 + 30 + 5 + 545) * 60);
    expect(s.byPerson).toEqual([
      { person: 'U0BOB', count: 2, seconds: (30 + 545) * 60 },
      { person: 'U0ALICE', count: 2, seconds: 100 * 60 },
      { owner: `arn:aws:iam::${ACCOUNT}:user/mallory`, count: 1, seconds: 300 },
    ]);
    expect(s.longest).toMatchObject({ id: 'bob-0000000000000000e', person: 'U0BOB', open: true });
  });

  it('totals per target (requests, sessions, runs); one account and one region: no per-account list', () => {
    const home = { accountId: ACCOUNT, region: 'ap-northeast-1' };
    expect(view.totals).toEqual({
      onePlace: true,
      byAccount: [{ accountId: ACCOUNT, label: ACCOUNT, requests: 6, sessions: 4, seconds: 40500, runs: 4 }],
      byTarget: [
        { target: 'prod-raspi', ...home, requests: 5, sessions: 2, seconds: 100 * 60, runs: 4 },
        { target: 'staging-web', ...home, requests: 1, sessions: 2, seconds: (30 + 545) * 60, runs: 0 },
        // mallory's session, which no grant explains.
        { requests: 0, sessions: 1, seconds: 300, runs: 0 },
      ],
    });
  });

  it('runs by outcome, failures named', () => {
    expect(view.runs.total).toBe(4);
    expect(view.runs.outcomes).toEqual({
      succeeded: 1,
      partial: 1,
      failed: 1,
      'no-nodes': 0,
      denied: 1,
      'in-progress': 0,
    });
    expect(view.runs.failures.map((r) => r.id)).toEqual(['r2', 'r3']);
  });

  it('grants active now, by expiry; anomalies of the day only', () => {
    expect(view.activeNow).toEqual([
      {
        grantId: 'g8',
        requester: 'U0ALICE',
        target: 'prod-raspi',
        expiresAt: '2026-11-24T00:01:00Z',
        ending: true,
      },
      {
        grantId: 'g0',
        requester: 'U0BOB',
        target: 'staging-web',
        expiresAt: '2026-11-24T01:00:00Z',
        ending: false,
      },
    ]);
    expect(view.anomalies.total).toBe(4);
    expect(view.anomalies.unmatchedSessions.map((s) => s.id)).toEqual(['mallory-0000000000000000d']);
    expect(view.anomalies.orphanPolicies.map((a) => a.grantId)).toEqual(['zz9']);
    expect(view.anomalies.failedRevocations.map((a) => [a.kind, a.grantId])).toEqual([
      ['sessions-not-ended', 'g1'],
      ['revoke-failed', 'g0'],
    ]);
    expect(view.empty).toBe(false);
  });
});

describe('composeDigest: time to decision', () => {
  it('the median of an even count is the mean of the middle two', () => {
    const decided = (id: string, minutes: number): Grant => ({
      ...(grants[1] as Grant),
      id,
      requestedAt: '2026-11-23T02:00:00Z',
      decidedAt: new Date(Date.parse('2026-11-23T02:00:00Z') + minutes * 60_000).toISOString(),
    });
    const view = composeDigest({
      ...empty(),
      grants: [decided('a', 1), decided('b', 3), decided('c', 5), decided('d', 20)],
    });
    expect(view.requests.decision).toEqual({ count: 4, medianSeconds: 240, maxSeconds: 1200 });
  });
});

describe('composeDigest: the day boundary', () => {
  it('the same data read as a UTC day counts differently than as a Tokyo day', () => {
    const utc = composeDigest({ ...fixedDayInput(), day: localDay('2026-11-23', 'UTC') });
    // g7 (15:00Z on the 23rd) is in the UTC day; nothing requested on the 22nd UTC counts.
    expect(utc.requests.total).toBe(7);
    // Bob's session at 15:10Z on the 22nd (00:10 Tokyo on the 23rd) drops out.
    expect(utc.sessions.count).toBe(4);
    expect(utc.sessions.byPerson.find((p) => p.person === 'U0BOB')?.count).toBe(1);
  });
});

describe('composeDigest: an empty day', () => {
  it('is empty only when nothing happened and nothing is active', () => {
    expect(composeDigest(empty()).empty).toBe(true);
    expect(composeDigest({ ...empty(), activeNow: fixedDayInput().activeNow }).empty).toBe(false);
    expect(composeDigest({ ...empty(), grants: grants.filter((g) => g.id === 'g0') }).empty).toBe(false);
    const day = fixedDayInput();
    expect(composeDigest({ ...empty(), runs: day.runs }).empty).toBe(false);
    expect(composeDigest({ ...empty(), anomalies: day.anomalies }).empty).toBe(false);
    expect(composeDigest({ ...empty(), sessions: day.sessions }).empty).toBe(false);
    // Only things outside the day: still empty.
    expect(
      composeDigest({ ...empty(), anomalies: day.anomalies.slice(3), sessions: day.sessions.slice(5) }).empty,
    ).toBe(true);
  });

  it('reads as one short line', () => {
    const text = digestText(composeDigest(empty()));
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toBe(
      'Keyturn digest for Monday 23 November 2026 (Asia/Tokyo): no requests, sessions, commands or anomalies, and no grant is active.',
    );
  });
});

describe('composeDigest: 10,000 sessions in a day', () => {
  it('totals are exact, whatever the spread over people and targets', () => {
    const people = Array.from({ length: 400 }, (_, i) => `U${String(i).padStart(6, '0')}`);
    const sessions: Session[] = Array.from({ length: 10_000 }, (_, i) => ({
      id: `s-${i}`,
      version: 2,
      status: 'ended',
      firstSeenAt: DAY.start,
      owner: `arn:aws:iam::${ACCOUNT}:user/u${i % 400}`,
      node: { id: `mi-${String(i % 997).padStart(17, '0')}` },
      document: 'shell',
      startedAt: new Date(Date.parse(DAY.start) + i * 8_000).toISOString(),
      endedAt: new Date(Date.parse(DAY.start) + i * 8_000 + (i % 60) * 1000 + 60_000).toISOString(),
      unmatched: true,
    }));
    const view = composeDigest({
      ...empty(),
      people: Object.fromEntries(
        people.map((p, i) => [
          p,
          { user: p, identity: { kind: 'iam-user', name: `u${i}`, path: '/' }, attach: 'direct' },
        ]),
      ),
      sessions,
    });
    const expected = sessions.reduce((sum, _s, i) => sum + 60 + (i % 60), 0);
    expect(view.sessions.count).toBe(10_000);
    expect(view.sessions.seconds).toBe(expected);
    expect(view.sessions.byPerson).toHaveLength(400);
    expect(view.sessions.byPerson.reduce((n, p) => n + p.count, 0)).toBe(10_000);
    expect(view.sessions.byPerson.reduce((n, p) => n + p.seconds, 0)).toBe(expected);
    expect(view.anomalies.unmatchedSessions).toHaveLength(10_000);
    expect(view.sessions.longest?.seconds).toBe(119);
  });
});

describe('folding the day page by page', () => {
  const fold = (input: DigestInput, size: number) => {
    const tally = startDigest(input);
    for (let i = 0; i < input.grants.length; i += size) foldGrants(tally, input.grants.slice(i, i + size));
    for (let i = 0; i < input.sessions.length; i += size)
      foldSessions(tally, input.sessions.slice(i, i + size));
    return finishDigest(tally, input);
  };

  it.each([1, 2, 3, 5, 1_000])('pages of %i give the same digest as composing the whole day', (size) => {
    const input = fixedDayInput();
    expect(fold(input, size)).toEqual(composeDigest(input));
    // In whatever order the pages come.
    const reversed = {
      ...input,
      grants: [...input.grants].reverse(),
      sessions: [...input.sessions].reverse(),
    };
    expect(fold(reversed, size)).toEqual(composeDigest(input));
  });

  it('a grant read twice (on two pages) counts once', () => {
    const input = fixedDayInput();
    const twice = { ...input, grants: [...input.grants, ...input.grants] };
    expect(fold(twice, 4)).toEqual(composeDigest(input));
  });

  it('keeps only the sessions that matched no grant, not the day’s sessions', () => {
    const input = fixedDayInput();
    const tally = startDigest(input);
    foldGrants(tally, input.grants);
    foldSessions(tally, input.sessions);
    const unmatched = input.sessions.filter((s) => s.unmatched === true && s.startedAt !== undefined);
    expect(tally.unmatchedSessions.map((s) => s.id).sort()).toEqual(
      unmatched
        .filter((s) => Date.parse(s.startedAt as string) >= Date.parse(DAY.start))
        .filter((s) => Date.parse(s.startedAt as string) < Date.parse(DAY.end))
        .map((s) => s.id)
        .sort(),
    );
  });
});

it('the fixture’s people come from the test config', () => {
  expect(testConfig().people.U0BOB).toEqual({
    user: 'U0BOB',
    identity: { kind: 'iam-user', name: 'bob', path: '/' },
    attach: 'access-role',
  });
});

describe('composeDigest in an organisation: totals per account and per target', () => {
  const input = orgDayInput();
  const view = composeDigest(input);
  const OSAKA = 'factory (444455556666), ap-northeast-3';
  const HOME_PLACE = '123456789012, ap-northeast-1';

  it('counts requests, sessions and runs per account, every served account listed, Keyturn’s own first', () => {
    expect(view.totals.onePlace).toBe(false);
    expect(view.totals.byAccount).toEqual([
      { accountId: ACCOUNT, label: ACCOUNT, requests: 5, sessions: 2, seconds: (30 + 545) * 60, runs: 3 },
      {
        accountId: FACTORY,
        label: 'factory (444455556666)',
        requests: 1,
        sessions: 2,
        seconds: 100 * 60,
        runs: 1,
      },
    ]);
  });

  it('counts them per target and place, naming the place', () => {
    expect(view.totals.byTarget).toEqual([
      expect.objectContaining({ target: 'prod-raspi', where: HOME_PLACE, requests: 4, sessions: 0, runs: 3 }),
      expect.objectContaining({ target: 'osaka-raspi', where: OSAKA, requests: 1, sessions: 2, runs: 1 }),
      expect.objectContaining({
        target: 'staging-web',
        where: HOME_PLACE,
        requests: 1,
        sessions: 2,
        runs: 0,
      }),
      { requests: 0, sessions: 1, seconds: 300, runs: 0 },
    ]);
  });

  it('the text digest shows both lists', () => {
    const text = digestText(view);
    expect(text).toContain('By account:\n  123456789012: 5 requests, 2 sessions (9h 35m), 3 runs');
    expect(text).toContain(`  osaka-raspi in ${OSAKA}: 1 request, 2 sessions (1h 40m), 1 run`);
  });

  it('names the place of a session no grant explains, as it does a target', () => {
    const elsewhere = {
      ...input,
      sessions: input.sessions.map((s) =>
        s.unmatched ? { ...s, account: FACTORY, region: 'ap-northeast-3' } : s,
      ),
    };
    const unmatched = composeDigest(elsewhere).anomalies.unmatchedSessions;
    expect(unmatched.map((s) => [s.id, s.where])).toEqual([['mallory-0000000000000000d', OSAKA]]);
    expect(digestText(composeDigest(elsewhere))).toContain(
      `session mallory-0000000000000000d matched no grant: arn:aws:iam::123456789012:user/mallory on`,
    );
    expect(digestText(composeDigest(elsewhere))).toMatch(
      new RegExp(`matched no grant: .* in ${OSAKA.replace(/[()]/g, '\\$&')} at `),
    );
    // Recorded before there were other accounts: Keyturn's own, named as such.
    expect(view.anomalies.unmatchedSessions.map((s) => s.where)).toEqual([HOME_PLACE]);
  });

  it('folded page by page, it is the same digest', () => {
    const tally = startDigest(input);
    for (const g of input.grants) foldGrants(tally, [g]);
    for (const s of input.sessions) foldSessions(tally, [s]);
    expect(finishDigest(tally, input)).toEqual(view);
  });
});
