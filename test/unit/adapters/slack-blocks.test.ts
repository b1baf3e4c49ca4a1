import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownBlock } from '@slack/types';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
} from '../../../src/adapters/slack/action-ids';
import {
  denyReasonModal,
  escapeMrkdwn,
  MAX_BLOCKS,
  MAX_FIELD_TEXT,
  MAX_SECTION_TEXT,
  notice,
  requestCard,
  type SlackMessage,
  slackDate,
  truncate,
} from '../../../src/adapters/slack/blocks';
import type { Grant, GrantStatus } from '../../../src/domain/grant';
import type { ManagedNode } from '../../../src/domain/node';
import type { Target } from '../../../src/domain/target';

const target: Target = {
  name: 'prod-raspi',
  description: 'Production Raspberry Pi fleet',
  tags: { Fleet: 'prod-raspi' },
  defaultDurationMinutes: 60,
  maxDurationMinutes: 240,
  approvers: ['U0CAROL', 'S0SREGROUP'],
  approvals: 2,
  selfApproval: false,
  documents: ['shell', 'ssh'],
};

/** Deliberately not online-first, so the goldens show the builders' ordering. */
const nodes: ManagedNode[] = [
  { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'ConnectionLost' },
  { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60003', name: 'raspi-line-3', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60004', ping: 'Inactive' },
  { id: 'mi-0a1b2c3d4e5f60005', name: 'raspi-line-5', ping: 'Online' },
  { id: 'i-0123456789abcdef0', name: 'raspi-gateway', ping: 'Online' },
  { id: 'mi-0a1b2c3d4e5f60007', name: 'raspi-line-7', ping: 'Unknown' },
];

const requested: Grant = {
  id: 'a1b2',
  requester: 'U0ALICE',
  principal: { kind: 'user', name: 'alice' },
  target: 'prod-raspi',
  durationMinutes: 60,
  reason: 'replace sensor on line 3',
  status: 'pending',
  version: 1,
  requestedAt: '2026-11-03T13:00:00Z',
  approvals: [],
  history: [{ at: '2026-11-03T13:00:00Z', from: null, to: 'pending', by: 'U0ALICE' }],
};

const oneApproval: Grant = {
  ...requested,
  version: 2,
  approvals: [{ by: 'U0CAROL', at: '2026-11-03T13:02:00Z' }],
  history: [
    ...requested.history,
    { at: '2026-11-03T13:02:00Z', from: 'pending', to: 'pending', by: 'U0CAROL' },
  ],
};

const approved: Grant = {
  ...oneApproval,
  status: 'approved',
  version: 3,
  approvals: [...oneApproval.approvals, { by: 'U0DAVE', at: '2026-11-03T13:05:00Z' }],
  decidedBy: 'U0DAVE',
  decidedAt: '2026-11-03T13:05:00Z',
  startsAt: '2026-11-03T13:05:00Z',
  expiresAt: '2026-11-03T14:05:00Z',
  history: [
    ...oneApproval.history,
    { at: '2026-11-03T13:05:00Z', from: 'pending', to: 'approved', by: 'U0DAVE' },
  ],
};

const active: Grant = {
  ...approved,
  status: 'active',
  version: 4,
  policyArn: 'arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2',
  history: [
    ...approved.history,
    { at: '2026-11-03T13:05:20Z', from: 'approved', to: 'active', by: 'keyturn' },
  ],
};

const denied: Grant = {
  ...requested,
  status: 'denied',
  version: 2,
  decidedBy: 'U0DAVE',
  decidedAt: '2026-11-03T13:03:00Z',
  denyReason: 'change freeze until Friday & audit',
  history: [
    ...requested.history,
    { at: '2026-11-03T13:03:00Z', from: 'pending', to: 'denied', by: 'U0DAVE' },
  ],
};

const failed: Grant = {
  ...approved,
  status: 'failed',
  version: 4,
  failureReason: 'IAM said LimitExceeded: alice already has 10 policies attached',
  history: [
    ...approved.history,
    { at: '2026-11-03T13:05:40Z', from: 'approved', to: 'failed', by: 'keyturn' },
  ],
};

function golden(name: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, '__golden__', `${name}.json`), 'utf8'));
}

/** What Slack receives: the JSON the Web API client serializes. */
function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

interface TextObject {
  type: string;
  text: string;
  verbatim?: boolean;
}

/** Every text object anywhere in the blocks, with where it sits (section text and fields have different limits). */
function textObjects(blocks: readonly KnownBlock[]): { where: string; obj: TextObject }[] {
  const found: { where: string; obj: TextObject }[] = [];
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, where);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    if ((obj.type === 'mrkdwn' || obj.type === 'plain_text') && typeof obj.text === 'string') {
      found.push({ where, obj: obj as unknown as TextObject });
      return;
    }
    for (const [k, v] of Object.entries(obj))
      visit(v, k === 'fields' ? 'field' : where === 'field' ? where : k);
  };
  for (const b of blocks) visit(b, b.type);
  return found;
}

function allText(message: SlackMessage): string {
  return textObjects(message.blocks)
    .map((t) => t.obj.text)
    .join('\n');
}

function card(grant: Grant, t: Target = target, n: readonly ManagedNode[] = nodes): SlackMessage {
  return requestCard({ grant, target: t, nodes: n });
}

describe('requestCard golden files', () => {
  it.each([
    ['request-card-pending', oneApproval],
    ['request-card-approved', approved],
    ['request-card-active', active],
    ['request-card-denied', denied],
    ['request-card-failed', failed],
  ] as const)('%s', (name, grant) => {
    expect(wire(card(grant))).toStrictEqual(golden(name));
  });
});

describe('notice golden files', () => {
  it('ready, with the ssh ProxyCommand when the target allows ssh', () => {
    const message = notice({ kind: 'ready', grant: active, target, nodes, region: 'ap-northeast-1' });
    expect(wire(message)).toStrictEqual(golden('notice-ready-ssh'));
  });

  it('ready, shell only, with Run As', () => {
    const shellOnly: Target = { ...target, documents: ['shell'], runAs: 'pi-ops' };
    const message = notice({
      kind: 'ready',
      grant: active,
      target: shellOnly,
      nodes: [{ id: 'i-0aaa0000000000001', name: 'web-1', ping: 'Online' }],
      region: 'us-east-1',
    });
    expect(wire(message)).toStrictEqual(golden('notice-ready-shell-only'));
  });

  it('denied', () => {
    expect(wire(notice({ kind: 'denied', grant: denied, target }))).toStrictEqual(golden('notice-denied'));
  });

  it('failed', () => {
    expect(wire(notice({ kind: 'failed', grant: failed, target }))).toStrictEqual(golden('notice-failed'));
  });
});

describe('requestCard', () => {
  it('puts the grant id and the named action ids on the Approve and Deny buttons', () => {
    const actions = card(requested).blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({
      elements: [
        { type: 'button', action_id: ACTION_APPROVE, value: 'a1b2', style: 'primary' },
        { type: 'button', action_id: ACTION_DENY, value: 'a1b2', style: 'danger' },
      ],
    });
    expect(allText(card(requested))).toContain('*Pending:* 0 of 2 approvals');
  });

  it.each([
    '<!channel> please approve',
    'ping <@U123> and <!here>',
    'see <https://evil.example|the runbook>',
    '<!subteam^S0SRE> & friends',
  ])('escapes user text in the reason: %s', (reason) => {
    const text = allText(card({ ...requested, reason }));
    expect(text).toContain(escapeMrkdwn(reason));
    expect(text).not.toContain(reason);
    expect(text).not.toMatch(/<!(channel|here|subteam)|<@U123>|<https:/);
  });

  it('escapes deny and failure reasons too', () => {
    const deniedText = allText(card({ ...denied, denyReason: '<!channel> no' }));
    expect(deniedText).toContain('&lt;!channel&gt; no');
    expect(deniedText).not.toContain('<!channel>');
    const failedText = allText(card({ ...failed, failureReason: 'boom <@U999>' }));
    expect(failedText).toContain('boom &lt;@U999&gt;');
  });

  it('marks every mrkdwn object verbatim, so Slack does not auto-parse bare @here or #channel in user text', () => {
    for (const message of [
      card(oneApproval),
      card(denied),
      notice({ kind: 'denied', grant: denied, target }),
    ]) {
      const mrkdwn = textObjects(message.blocks).filter((t) => t.obj.type === 'mrkdwn');
      expect(mrkdwn.length).toBeGreaterThan(0);
      for (const t of mrkdwn) expect(t.obj.verbatim).toBe(true);
    }
  });

  it('keeps 200 nodes to at most 50 blocks and every text within its Slack limit', () => {
    const many: ManagedNode[] = Array.from({ length: 200 }, (_, i) => ({
      id: `mi-${String(i).padStart(17, '0')}`,
      name: `raspi-${'x'.repeat(300)}-${i}`,
      ping: i % 3 === 0 ? 'ConnectionLost' : 'Online',
    }));
    const longReason = `${'<@U123> & '.repeat(500)}end`;
    const messages = [
      card({ ...oneApproval, reason: longReason }, target, many),
      card({ ...failed, failureReason: `${'y'.repeat(5000)} <@U123>` }, target, many),
      notice({ kind: 'ready', grant: active, target, nodes: many, region: 'ap-northeast-1' }),
    ];
    for (const message of messages) {
      expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
      for (const { where, obj } of textObjects(message.blocks)) {
        expect(obj.text.length).toBeLessThanOrEqual(where === 'field' ? MAX_FIELD_TEXT : MAX_SECTION_TEXT);
      }
      const text = allText(message);
      expect(text).toContain('200 nodes (67 offline)');
      expect(text).toContain('…and 190 more');
    }
    const reasonField = textObjects(messages[0]!.blocks).find((t) => t.obj.text.startsWith('*Reason*'));
    expect(reasonField?.obj.text.endsWith('…')).toBe(true);
    // Cut at a clean boundary: no half-escaped entity (`&`, `&g`, `&am`) before the ellipsis.
    expect(reasonField?.obj.text).toMatch(/&lt;@U123…$/);
  });

  it('says when no node carries the tags', () => {
    expect(allText(card(requested, target, []))).toContain(
      '*Nodes tagged Fleet=prod-raspi right now:* 0 nodes (0 offline)',
    );
  });

  it('lists every tag a node must carry and the Run As user', () => {
    const multi: Target = { ...target, tags: { Fleet: 'prod-raspi', Site: 'osaka' }, runAs: 'pi-ops' };
    const text = allText(card(requested, multi));
    expect(text).toContain('Only on nodes tagged Fleet=prod-raspi and Site=osaka, until 1h after approval.');
    expect(text).toContain('• sessions run as OS user `pi-ops`');
  });

  const date = (iso: string) => slackDate(iso);
  it.each<[GrantStatus, Partial<Grant>, string]>([
    ['cancelled', {}, `*Cancelled* by <@U0ALICE> at ${date('2026-11-03T13:01:00Z')}`],
    [
      'lapsed',
      {},
      `*Lapsed* at ${date('2026-11-03T13:01:00Z')}: no decision in time, so nothing was granted`,
    ],
    [
      'expired',
      { expiresAt: '2026-11-03T14:05:00Z' },
      `*Expired* at ${date('2026-11-03T13:01:00Z')}; access removed`,
    ],
    ['revoked', {}, `*Revoked* by <@U0ALICE> at ${date('2026-11-03T13:01:00Z')}; access removed`],
    ['released', {}, `*Released early* by <@U0ALICE> at ${date('2026-11-03T13:01:00Z')}; access removed`],
  ])('shows the %s status in one line, without buttons', (status, extra, line) => {
    const by = status === 'lapsed' || status === 'expired' ? 'keyturn' : 'U0ALICE';
    const grant: Grant = {
      ...requested,
      ...extra,
      status,
      history: [...requested.history, { at: '2026-11-03T13:01:00Z', from: 'pending', to: status, by }],
    };
    const message = card(grant);
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(message.blocks.at(-1)).toStrictEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: line, verbatim: true },
    });
    expect(message.text).toContain(status);
  });

  it('says "no reason given" when a denial has none', () => {
    const { denyReason: _, ...noReason } = denied;
    expect(allText(card(noReason))).toMatch(
      /\*Denied\* by <@U0DAVE> at <!date\^\d+\^[^>]+> — no reason given$/,
    );
    expect(allText(notice({ kind: 'denied', grant: noReason, target }))).toContain(
      '*Reason:* no reason given',
    );
  });
});

describe('notice', () => {
  it('approved names the approvers and says access is being set up', () => {
    const message = notice({ kind: 'approved', grant: approved, target });
    expect(message.text).toBe(
      'Your request a1b2 for prod-raspi was approved by <@U0CAROL>, <@U0DAVE>; setting up access…',
    );
    expect(allText(message)).toBe(message.text);
  });

  it('ready with no node online still gives a runnable command and says why it may not connect', () => {
    const offline: ManagedNode[] = [
      { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'ConnectionLost' },
    ];
    const text = allText(
      notice({ kind: 'ready', grant: active, target, nodes: offline, region: 'ap-northeast-1' }),
    );
    expect(text).toContain('--target mi-0a1b2c3d4e5f60002 --region ap-northeast-1');
    expect(text).toContain('No node is online right now');
  });

  it('ready without ssh has no ProxyCommand', () => {
    const text = allText(
      notice({
        kind: 'ready',
        grant: active,
        target: { ...target, documents: ['shell'] },
        nodes,
        region: 'eu-west-1',
      }),
    );
    expect(text).not.toContain('ProxyCommand');
    expect(text).toContain('aws ssm start-session --target mi-0a1b2c3d4e5f60001 --region eu-west-1');
  });
});

describe('denyReasonModal', () => {
  it('carries the grant id and the named ids, with an optional reason of at most 500 characters', () => {
    const view = denyReasonModal('a1b2');
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: VIEW_DENY_REASON,
      private_metadata: 'a1b2',
      submit: { type: 'plain_text', text: 'Deny' },
    });
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    const input = view.blocks.find((b) => b.type === 'input');
    expect(input).toMatchObject({
      block_id: BLOCK_DENY_REASON,
      optional: true,
      element: { type: 'plain_text_input', action_id: INPUT_DENY_REASON, multiline: true, max_length: 500 },
    });
  });
});

describe('helpers', () => {
  it('escapeMrkdwn escapes &, < and > and nothing else', () => {
    expect(escapeMrkdwn('a & b <@U1> *bold* _it_ `x`')).toBe('a &amp; b &lt;@U1&gt; *bold* _it_ `x`');
  });

  it('slackDate renders a date token with an ISO fallback, and a custom format', () => {
    expect(slackDate('2026-11-03T14:05:00.123Z')).toBe(
      '<!date^1793714700^{date_short_pretty} at {time}|2026-11-03T14:05:00Z>',
    );
    expect(slackDate('2026-11-03T14:05:00Z', '{time}')).toBe(
      '<!date^1793714700^{time}|2026-11-03T14:05:00Z>',
    );
    expect(slackDate('not a <date>')).toBe('not a &lt;date&gt;');
  });

  it('truncate never splits a token, an escape or a surrogate pair', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abcdef <@U0ALICE>', 12)).toBe('abcdef …');
    expect(truncate('abcdef &amp; more', 10)).toBe('abcdef …');
    expect(truncate('abcdefgh😀tail', 10)).toBe('abcdefgh…');
    expect(truncate('x'.repeat(3001), MAX_SECTION_TEXT)).toHaveLength(MAX_SECTION_TEXT);
  });
});
