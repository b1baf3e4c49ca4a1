import { composeDigest, type DigestInput } from '../../../src/domain/digest';
import { digestText, TEXT_LIST_CAP } from '../../../src/domain/digest-text';
import type { Grant } from '../../../src/domain/grant';
import { DIGEST_NOW, fixedDayInput, grants } from '../../support/digest-fixture';

const empty = (): DigestInput => ({
  ...fixedDayInput(),
  grants: [],
  sessions: [],
  runs: [],
  anomalies: [],
  activeNow: [],
});

describe('digestText: the CLI’s plain text', () => {
  it('has no Slack markup and shows times in the digest’s zone', () => {
    const text = digestText(composeDigest(fixedDayInput()));
    expect(text).not.toMatch(/<[@!]/);
    expect(text).toContain('Keyturn digest for Monday 23 November 2026 (Asia/Tokyo)');
    expect(text).toContain(
      'Requests: 6 — 1 approved, 1 denied, 1 lapsed, 1 cancelled, 1 failed (1 still pending)',
    );
    expect(text).toContain('Time to decision: median 4m, max 30m (3 decisions)');
    expect(text).toContain('Sessions: 5, 680 minutes in total, 1 still open');
    // 14:55Z on the 23rd is 23:55 in Tokyo, on the digest's day; the active grant's expiry is the next day.
    expect(text).toContain('Longest: U0BOB, 9h 5m on web-2 (i-0123456789abcdef1) from 23:55');
    expect(text).toContain('g0: U0BOB on staging-web until 2026-11-24 10:00');
    expect(text).toContain(
      'logs on prod-raspi by U0BOB at 16:00: failed on 2 of 4 nodes (raspi-line-3, raspi-line-4)',
    );
    expect(text).toContain('session mallory-0000000000000000d matched no grant');
    expect(text).toContain('revoking grant g0 (U0BOB on staging-web) still failing at 12:10');
  });

  it('cuts long lists with "… and N more"', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ ...(grants[6] as Grant), id: `a${i}` }));
    const text = digestText(composeDigest({ ...empty(), activeNow: many, now: DIGEST_NOW }));
    expect(text).toContain(`… and ${60 - TEXT_LIST_CAP} more`);
    expect(text.split('\n').filter((l) => l.startsWith('  a'))).toHaveLength(TEXT_LIST_CAP);
  });
});
