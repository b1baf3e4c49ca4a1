import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditLineMessage } from '../../../src/adapters/slack/audit-blocks';
import type { GrantAuditKind, GrantAuditLine, RunAuditLine } from '../../../src/domain/audit-line';

function golden(name: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, '__golden__', `${name}.json`), 'utf8'));
}

/** What Slack receives: the JSON the Web API client serializes. */
function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

const requested: GrantAuditLine = {
  subject: 'grant',
  kind: 'requested',
  grantId: 'a1b2',
  target: 'prod-raspi',
  requester: 'U0ALICE',
  by: 'U0ALICE',
  at: '2026-11-23T10:00:00Z',
  minutes: 60,
  note: 'replace sensor on line 3',
  thread: { channel: 'C0APPROVALS', ts: '1700000000.000100' },
};

const runFinished: RunAuditLine = {
  subject: 'run',
  kind: 'finished',
  runId: 'r1',
  snippet: 'disk',
  target: 'prod-raspi',
  requester: 'U0DAVE',
  at: '2026-11-23T10:31:00Z',
  end: 'completed',
  counts: { succeeded: 2, failed: 1, undeliverable: 1 },
  thread: { channel: 'C0WORK', ts: '1700000100.000001' },
};

describe('auditLineMessage golden files', () => {
  it('a request links to its approval card thread', () => {
    const message = auditLineMessage(
      requested,
      'https://acme.slack.com/archives/C0APPROVALS/p1700000000000100',
    );
    expect(wire(message)).toStrictEqual(golden('audit-line-requested'));
  });

  it('a revoke names who revoked and why, escaping the reason, and names the grant when no link is known', () => {
    const line: GrantAuditLine = {
      ...requested,
      kind: 'revoked',
      requester: 'U0BOB',
      by: 'U0CAROL',
      at: '2026-11-23T10:03:20Z',
      note: 'incident <!channel> over & done',
    };
    delete line.minutes;
    expect(wire(auditLineMessage(line))).toStrictEqual(golden('audit-line-revoked'));
  });

  it("a finished run counts its nodes in the run message's own words", () => {
    const message = auditLineMessage(runFinished, 'https://acme.slack.com/archives/C0WORK/p1700000100000001');
    expect(wire(message)).toStrictEqual(golden('audit-line-run-finished'));
  });
});

describe('auditLineMessage', () => {
  const kinds: GrantAuditKind[] = [
    'requested',
    'approval-recorded',
    'approved',
    'denied',
    'cancelled',
    'lapsed',
    'active',
    'failed',
    'extension-approval-recorded',
    'extension-approved',
    'extension-denied',
    'extended',
    'released',
    'revoked',
    'expired',
  ];

  it.each(kinds)('%s is one context block naming the requester, the target and the grant', (kind) => {
    const message = auditLineMessage({ ...requested, kind, until: '2026-11-23T11:00:00Z' });
    expect(message.blocks).toHaveLength(1);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('<@U0ALICE>');
    expect(text).toContain('*prod-raspi*');
    expect(text).toContain('grant a1b2');
    expect(message.text).not.toContain('<!date');
  });

  it('a very long reason is cut, so the line stays one line', () => {
    const message = auditLineMessage({ ...requested, note: 'x'.repeat(5_000) });
    const [block] = message.blocks as { elements: { text: string }[] }[];
    expect(block?.elements[0]?.text.length).toBeLessThan(600);
    expect(block?.elements[0]?.text).toContain('…');
  });

  it('a run that found nowhere to run says nothing was sent', () => {
    const message = auditLineMessage({ ...runFinished, end: 'no-online-nodes', counts: {} });
    expect(message.text).toContain('nothing sent, none of its nodes is online');
  });
});
