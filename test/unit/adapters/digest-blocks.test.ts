import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownBlock } from '@slack/types';
import { MAX_BLOCKS, MAX_SECTION_TEXT, type SlackMessage } from '../../../src/adapters/slack/block-kit';
import { DIGEST_LIST_CAP, digestMessage, listSection } from '../../../src/adapters/slack/digest-blocks';
import type { Anomaly } from '../../../src/domain/anomaly';
import { composeDigest, type DigestInput } from '../../../src/domain/digest';
import type { Grant } from '../../../src/domain/grant';
import type { Session } from '../../../src/domain/session';
import { ACCOUNT, DAY, fixedDayInput, grants, orgDayInput } from '../../support/digest-fixture';

/**
 * Golden files are written by hand-review: run with UPDATE_GOLDEN=1 once, read the JSON, commit it.
 * Without the variable a missing or different file fails.
 */
function expectGolden(name: string, message: SlackMessage): void {
  const file = join(__dirname, '__golden__', `${name}.json`);
  const actual = JSON.parse(JSON.stringify(message));
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`golden file ${file} is missing`);
    writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  }
  expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

/** Every mrkdwn/plain text object in the message, with the block type it sits in. */
function texts(blocks: readonly KnownBlock[]): { type: string; text: string }[] {
  const found: { type: string; text: string }[] = [];
  const visit = (value: unknown, type: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, type);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    if ((obj.type === 'mrkdwn' || obj.type === 'plain_text') && typeof obj.text === 'string') {
      found.push({ type, text: obj.text });
      return;
    }
    for (const v of Object.values(obj)) visit(v, type);
  };
  for (const b of blocks) visit(b, b.type);
  return found;
}

function expectWithinSlackLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
  for (const t of texts(message.blocks)) {
    expect(t.text.length).toBeLessThanOrEqual(t.type === 'header' ? 150 : MAX_SECTION_TEXT);
  }
  expect(message.text.length).toBeLessThanOrEqual(40_000);
}

const emptyInput = (): DigestInput => ({
  ...fixedDayInput(),
  grants: [],
  sessions: [],
  runs: [],
  anomalies: [],
  activeNow: [],
});

describe('digestMessage', () => {
  it('renders a fixed day of data (golden)', () => {
    const message = digestMessage(composeDigest(fixedDayInput()));
    expectGolden('digest-fixed-day', message);
    expectWithinSlackLimits(message);
  });

  it('in an organisation: totals per account and per target, each target with its account and region', () => {
    const message = digestMessage(composeDigest(orgDayInput()));
    expectWithinSlackLimits(message);
    const all = texts(message.blocks).map((t) => t.text);
    expect(all).toContain(
      '*By account:*\n• 123456789012 — 5 requests · 2 sessions (9h 35m) · 3 runs\n• factory (444455556666) — 1 request · 2 sessions (1h 40m) · 1 run',
    );
    expect(all).toContain(
      [
        '*By target:*',
        '• prod-raspi in 123456789012, ap-northeast-1 — 4 requests · 3 runs',
        '• osaka-raspi in factory (444455556666), ap-northeast-3 — 1 request · 2 sessions (1h 40m) · 1 run',
        '• staging-web in 123456789012, ap-northeast-1 — 1 request · 2 sessions (9h 35m)',
        '• _no grant_ — 1 session (5m)',
      ].join('\n'),
    );
    const active = all.find((t) => t.startsWith('*Active now:*')) as string;
    expect(active).toContain('`g0` <@U0BOB> on staging-web in 123456789012, ap-northeast-1 until');
  });

  it('renders an empty day as one short line (golden)', () => {
    const message = digestMessage(composeDigest(emptyInput()));
    expectGolden('digest-empty-day', message);
    expect(message.blocks).toHaveLength(1);
    expect(texts(message.blocks)[0]?.text.split('\n')).toHaveLength(1);
  });

  it('10,000 sessions in a day: within Slack’s limits, lists cut with "and N more", totals exact', () => {
    const sessions: Session[] = Array.from({ length: 10_000 }, (_, i) => ({
      id: `u${i % 700}-${String(i).padStart(17, '0')}`,
      version: 2,
      status: 'ended',
      firstSeenAt: DAY.start,
      owner: `arn:aws:iam::${ACCOUNT}:user/u${i % 700}`,
      node: { id: `mi-${String(i % 300).padStart(17, '0')}`, name: `raspi-${i % 300}` },
      document: i % 3 === 0 ? 'ssh' : 'shell',
      startedAt: new Date(Date.parse(DAY.start) + i * 8_000).toISOString(),
      endedAt: new Date(Date.parse(DAY.start) + i * 8_000 + 6 * 60_000).toISOString(),
      // Every tenth matches no grant: 1,000 anomalies.
      ...(i % 10 === 0 ? { unmatched: true } : { grantId: `g${i % 40}` }),
    }));
    const manyGrants: Grant[] = Array.from({ length: 40 }, (_, i) => ({
      ...(grants[0] as Grant),
      id: `g${i}`,
      requester: `U${String(i).padStart(6, '0')}`,
      target: `fleet-${i}`,
    }));
    const view = composeDigest({ ...emptyInput(), grants: manyGrants, sessions });
    const message = digestMessage(view);
    expectWithinSlackLimits(message);

    const all = texts(message.blocks).map((t) => t.text);
    expect(all.some((t) => t.startsWith('*Sessions:* 10000, 60000 minutes in total'))).toBe(true);
    const byPerson = all.find((t) => t.startsWith('*By person:*')) as string;
    // 40 grant requesters plus 70 unmatched owners.
    expect(byPerson.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(DIGEST_LIST_CAP);
    expect(byPerson).toMatch(new RegExp(`…and ${view.sessions.byPerson.length - DIGEST_LIST_CAP} more$`));
    const anomalies = all.find((t) => t.startsWith('*Anomalies:*')) as string;
    expect(anomalies.startsWith('*Anomalies:* 1000\n')).toBe(true);
    expect(anomalies).toMatch(/…and 990 more$/);
    expect(message.text).toContain('10000 sessions');
  });

  it('500 anomalies with 2,000-character ARNs still fit one section, saying how many were left out', () => {
    const arn = `arn:aws:iam::${ACCOUNT}:policy/keyturn/${'p'.repeat(1990)}`;
    const anomalies: Anomaly[] = Array.from({ length: 500 }, (_, i) => ({
      kind: 'orphan-policy-removed',
      at: new Date(Date.parse(DAY.start) + i * 60_000).toISOString(),
      policyArn: `${arn}${i}`,
      detachedFrom: [],
    }));
    const message = digestMessage(composeDigest({ ...emptyInput(), anomalies }));
    expectWithinSlackLimits(message);
    const section = texts(message.blocks).find((t) => t.text.startsWith('*Anomalies:*'))?.text as string;
    const shown = section.split('\n').filter((l) => l.startsWith('• ')).length;
    expect(shown).toBeGreaterThan(0);
    expect(section).toMatch(new RegExp(`…and ${500 - shown} more$`));
  });

  it('escapes what users and AWS wrote: no mention or link can be forged', () => {
    const input = fixedDayInput();
    const evil: Session = {
      ...(input.sessions[3] as Session),
      node: { id: 'i-0fedcba9876543210', name: '<!channel> & <https://evil|click>' },
    };
    const evilGrant: Grant = { ...(grants[0] as Grant), target: '<!here>' };
    const message = digestMessage(
      composeDigest({
        ...input,
        grants: [evilGrant, ...input.grants.slice(1)],
        sessions: [...input.sessions.slice(0, 3), evil],
      }),
    );
    const all = texts(message.blocks)
      .map((t) => t.text)
      .join('\n');
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<!here>');
    expect(all).toContain('&lt;!here&gt; — 1 request · 2 sessions');
    expect(all).toContain('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
  });
});

describe('listSection', () => {
  it('shows everything that fits, without a "more" line', () => {
    const section = listSection('*Head:*', ['a', 'b']);
    expect(section.text?.text).toBe('*Head:*\n• a\n• b');
  });

  it('stops at the cap and counts the rest', () => {
    const section = listSection(
      '*Head:*',
      Array.from({ length: 25 }, (_, i) => `item ${i}`),
      10,
    );
    const lines = section.text?.text.split('\n') ?? [];
    expect(lines).toHaveLength(12);
    expect(lines.at(-1)).toBe('…and 15 more');
  });

  it('stops at 3,000 characters even under the cap', () => {
    const section = listSection(
      '*Head:*',
      Array.from({ length: 9 }, () => 'x'.repeat(390)),
      10,
    );
    expect(section.text?.text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
    expect(section.text?.text).toMatch(/…and \d+ more$/);
  });
});
