import type { AwsProfile } from '../../../src/domain/person';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownBlock } from '@slack/types';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  ACTION_EXTEND,
  ACTION_EXTENSION_APPROVE,
  ACTION_EXTENSION_DENY,
  ACTION_RELEASE,
  BLOCK_DENY_REASON,
  INPUT_DENY_REASON,
  VIEW_DENY_REASON,
  VIEW_EXTENSION_DENY_REASON,
} from '../../../src/adapters/slack/action-ids';
import {
  auditMessage,
  denyReasonModal,
  escapeMrkdwn,
  extensionCard,
  extensionDenyReasonModal,
  MAX_BLOCKS,
  MAX_FIELD_TEXT,
  MAX_SECTION_TEXT,
  notice,
  redactSecrets,
  requestCard,
  type SlackMessage,
  slackDate,
  truncate,
} from '../../../src/adapters/slack/blocks';
import type { Ending, Extension, Grant, GrantStatus } from '../../../src/domain/grant';
import type { ManagedNode } from '../../../src/domain/node';
import type { Target } from '../../../src/domain/target';
import type { AuditEvent, ExtensionCardView } from '../../../src/ports/chat';

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
  warnBeforeMinutes: 10,
  approvalTimeoutMinutes: 30,
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

/** An active grant on its way out: the use case wrote `ending` first and the revoke steps have not finished. */
function ending(e: Ending, extra: Partial<Grant> = {}): Grant {
  return { ...active, version: 5, ending: e, ...extra };
}

/** A grant that ended after being active: terminal status, the ending that explains it, sessions counted. */
function ended(e: Ending, sessionsEnded: number | undefined, extra: Partial<Grant> = {}): Grant {
  const grant: Grant = {
    ...active,
    status: e.status,
    version: 6,
    ending: e,
    history: [
      ...active.history,
      { at: e.at, from: 'active', to: 'active', event: 'ending-requested', by: e.by },
      { at: '2026-11-03T14:05:30Z', from: 'active', to: e.status, by: 'keyturn' },
    ],
    ...extra,
  };
  if (sessionsEnded !== undefined) grant.sessionsEnded = sessionsEnded;
  return grant;
}

const expiredEnding: Ending = { status: 'expired', by: 'keyturn', at: '2026-11-03T14:05:00Z' };
const revokedEnding: Ending = {
  status: 'revoked',
  by: 'U0DAVE',
  at: '2026-11-03T13:30:00Z',
  reason: 'suspicious activity on line 3',
};
const releasedEnding: Ending = { status: 'released', by: 'U0ALICE', at: '2026-11-03T13:40:00Z' };

const extensionTarget: Target = { ...target, maxTotalMinutes: 180 };

const pendingExtension: Extension = {
  minutes: 30,
  requestedBy: 'U0ALICE',
  requestedAt: '2026-11-03T13:50:00Z',
  approvals: [{ by: 'U0CAROL', at: '2026-11-03T13:52:00Z' }],
  state: 'pending',
};

const extending: Grant = { ...active, version: 5, extension: pendingExtension };

const extensionPending: ExtensionCardView = {
  grant: extending,
  target: extensionTarget,
  extension: pendingExtension,
  newExpiresAt: '2026-11-03T14:35:00Z',
  totalMinutes: 90,
};

const approvedExtension: Extension = {
  ...pendingExtension,
  approvals: [...pendingExtension.approvals, { by: 'U0DAVE', at: '2026-11-03T13:53:00Z' }],
  state: 'approved',
  newExpiresAt: '2026-11-03T14:35:00Z',
  decidedBy: 'U0DAVE',
};

/** After the policy version was written: the grant already carries the new expiry. */
const extensionDone: ExtensionCardView = {
  ...extensionPending,
  grant: { ...active, version: 7, expiresAt: '2026-11-03T14:35:00Z', extendedMinutes: 30 },
  extension: { ...approvedExtension, state: 'extended' },
  outcome: { kind: 'extended', by: 'U0DAVE' },
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

  it('ready through an access role: the ~/.aws/config profile once, then every command names it', () => {
    const profile: AwsProfile = {
      name: 'keyturn',
      roleArn: 'arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0erin',
      roleSessionName: 'erin@example.com',
      region: 'ap-northeast-1',
      sourceProfile: { placeholder: 'my-sso', meaning: 'your IAM Identity Center profile' },
    };
    const text = allText(
      notice({ kind: 'ready', grant: active, target, nodes, region: 'ap-northeast-1', profile }),
    );
    expect(text).toContain(
      [
        '```[profile keyturn]',
        'role_arn = arn:aws:iam::123456789012:role/keyturn/people/keyturn-u0erin',
        'source_profile = my-sso',
        'role_session_name = erin@example.com',
        'region = ap-northeast-1```',
      ].join('\n'),
    );
    expect(text).toContain('`source_profile`: your IAM Identity Center profile');
    expect(text).toContain(
      'aws ssm start-session --profile keyturn --target mi-0a1b2c3d4e5f60001 --region ap-northeast-1',
    );
    expect(text).toContain(
      `ProxyCommand sh -c "aws ssm start-session --profile keyturn --target %h --document-name AWS-StartSSHSession`,
    );
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
  // Grants stored before `ending` existed: who and when come from the history entry.
  it.each<[GrantStatus, Partial<Grant>, string]>([
    ['cancelled', {}, `*Cancelled* by <@U0ALICE> ${date('2026-11-03T13:01:00Z')}`],
    ['lapsed', {}, '*Lapsed:* nobody decided within 30m'],
    [
      'expired',
      { expiresAt: '2026-11-03T14:05:00Z' },
      `*Expired* ${date('2026-11-03T14:05:00Z')} — 0 sessions ended`,
    ],
    [
      'revoked',
      {},
      `*Revoked* by <@U0ALICE> ${date('2026-11-03T13:01:00Z')}: no reason given — 0 sessions ended`,
    ],
    ['released', {}, `*Released early* by <@U0ALICE> ${date('2026-11-03T13:01:00Z')} — 0 sessions ended`],
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
    expect(allText(card(noReason))).toMatch(/\*Denied\* by <@U0DAVE> <!date\^\d+\^[^>]+> — no reason given$/);
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

describe('issue 3 golden files', () => {
  it('extension card, pending, with one of two approvals', () => {
    expect(wire(extensionCard(extensionPending))).toStrictEqual(golden('extension-card-pending'));
  });

  it('extension card, extended', () => {
    expect(wire(extensionCard(extensionDone))).toStrictEqual(golden('extension-card-extended'));
  });

  it('warning, ten minutes before expiry', () => {
    const message = notice({ kind: 'warning', grant: active, target }, new Date('2026-11-03T13:55:00Z'));
    expect(wire(message)).toStrictEqual(golden('notice-warning'));
  });

  it.each([
    ['notice-ended-expired', ended(expiredEnding, 2)],
    ['notice-ended-revoked', ended(revokedEnding, 1)],
    ['notice-ended-released', ended(releasedEnding, 0)],
  ] as const)('%s', (name, grant) => {
    expect(wire(notice({ kind: 'ended', grant, target }))).toStrictEqual(golden(name));
  });
});

describe('requestCard after approval', () => {
  const line = (grant: Grant, t: Target = target) => {
    const last = card(grant, t).blocks.at(-1);
    return last?.type === 'section' ? (last.text?.text ?? '') : '';
  };
  const d = (iso: string) => slackDate(iso);

  it('says how much an active grant was extended by', () => {
    expect(line({ ...active, expiresAt: '2026-11-03T14:35:00Z', extendedMinutes: 30 })).toBe(
      `*Active* until ${d('2026-11-03T14:35:00Z')} — approved by <@U0CAROL>, <@U0DAVE>; extended by 30m`,
    );
  });

  it.each<[string, Ending, string]>([
    ['released', releasedEnding, '*Ending:* released by <@U0ALICE> — removing access…'],
    [
      'revoked',
      revokedEnding,
      '*Ending:* revoked by <@U0DAVE>: suspicious activity on line 3 — removing access…',
    ],
    ['expired', expiredEnding, '*Ending:* expired — removing access…'],
    [
      'failed',
      { status: 'failed', by: 'keyturn', at: '2026-11-03T13:40:00Z', reason: 'policy vanished' },
      '*Ending:* failed: policy vanished — removing access…',
    ],
  ])('shows an active grant that is ending (%s) without buttons', (_, e, expected) => {
    const message = card(ending(e));
    expect(line(ending(e))).toBe(expected);
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it.each<[string, Grant, string]>([
    ['expired', ended(expiredEnding, 2), `*Expired* ${d('2026-11-03T14:05:00Z')} — 2 sessions ended`],
    [
      'expired, sessions not counted',
      ended(expiredEnding, undefined),
      `*Expired* ${d('2026-11-03T14:05:00Z')} — 0 sessions ended`,
    ],
    [
      'released',
      ended(releasedEnding, 1),
      `*Released early* by <@U0ALICE> ${d('2026-11-03T13:40:00Z')} — 1 session ended`,
    ],
    [
      'revoked',
      ended(revokedEnding, 3),
      `*Revoked* by <@U0DAVE> ${d('2026-11-03T13:30:00Z')}: suspicious activity on line 3 — 3 sessions ended`,
    ],
    [
      'revoked without a reason',
      ended({ status: 'revoked', by: 'U0DAVE', at: '2026-11-03T13:30:00Z' }, 0),
      `*Revoked* by <@U0DAVE> ${d('2026-11-03T13:30:00Z')}: no reason given — 0 sessions ended`,
    ],
    [
      'failed after being active',
      ended({ status: 'failed', by: 'keyturn', at: '2026-11-03T13:40:00Z' }, 2, {
        failureReason: 'the grant policy was deleted outside Keyturn',
      }),
      '*Failed:* the grant policy was deleted outside Keyturn — 2 sessions ended',
    ],
    ['cancelled', { ...requested, status: 'cancelled' }, '*Cancelled* by <@U0ALICE>'],
  ])('%s', (_, grant, expected) => {
    expect(line(grant)).toBe(expected);
  });

  it('names the approval timeout of the target when a request lapsed', () => {
    const lapsed: Grant = { ...requested, status: 'lapsed' };
    expect(line(lapsed, { ...target, approvalTimeoutMinutes: 90 })).toBe(
      '*Lapsed:* nobody decided within 1h30m',
    );
  });

  it('escapes revoke reasons, on the card and in the DM', () => {
    const reason = '<!channel> see <https://evil.example|this> & <@U123>';
    for (const grant of [ending({ ...revokedEnding, reason }), ended({ ...revokedEnding, reason }, 0)]) {
      for (const text of [allText(card(grant)), allText(notice({ kind: 'ended', grant, target }))]) {
        expect(text).toContain(escapeMrkdwn(reason));
        expect(text).not.toMatch(/<!channel>|<https:|<@U123>/);
      }
    }
  });

  it('cuts an over-long revoke reason but keeps the session count', () => {
    const text = line(ended({ ...revokedEnding, reason: 'x'.repeat(5000) }, 2));
    expect(text.length).toBeLessThan(MAX_SECTION_TEXT);
    expect(text).toMatch(/x… — 2 sessions ended$/);
  });
});

describe('extensionCard', () => {
  const status = (view: ExtensionCardView) => {
    const last = extensionCard(view).blocks.at(-1);
    return last?.type === 'section' ? (last.text?.text ?? '') : '';
  };

  it('puts the grant id and the extension action ids on its buttons', () => {
    const actions = extensionCard(extensionPending).blocks.filter((b) => b.type === 'actions');
    expect(actions).toEqual([
      expect.objectContaining({
        elements: [
          expect.objectContaining({ action_id: ACTION_EXTENSION_APPROVE, value: 'a1b2', style: 'primary' }),
          expect.objectContaining({ action_id: ACTION_EXTENSION_DENY, value: 'a1b2', style: 'danger' }),
        ],
      }),
    ]);
  });

  it.each<[string, ExtensionCardView['outcome'], string]>([
    [
      'denied',
      { kind: 'denied', by: 'U0DAVE', reason: 'finish tomorrow' },
      '*Denied* by <@U0DAVE>: finish tomorrow',
    ],
    ['denied without a reason', { kind: 'denied', by: 'U0DAVE' }, '*Denied* by <@U0DAVE>: no reason given'],
    ['dropped', { kind: 'dropped' }, '*Dropped:* the grant ended first'],
  ])('shows the %s outcome without buttons', (_, outcome, expected) => {
    const view: ExtensionCardView = { ...extensionPending, outcome };
    expect(status(view)).toBe(expected);
    expect(extensionCard(view).blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(extensionCard(view).text).toMatch(new RegExp(`: ${outcome?.kind}$`));
  });

  it("reads a finished extension's own state when the view carries no outcome", () => {
    const denied: ExtensionCardView = {
      ...extensionPending,
      extension: { ...pendingExtension, state: 'denied', decidedBy: 'U0DAVE', denyReason: '<!here> later' },
    };
    expect(status(denied)).toBe('*Denied* by <@U0DAVE>: &lt;!here&gt; later');
    expect(extensionCard(denied).blocks.some((b) => b.type === 'actions')).toBe(false);
    const { outcome: _, ...done } = extensionDone;
    expect(extensionCard(done)).toStrictEqual(extensionCard(extensionDone));
  });

  it('shows an approved extension that is still being applied, without buttons', () => {
    const view: ExtensionCardView = { ...extensionPending, extension: approvedExtension };
    expect(status(view)).toBe('*Approved* by <@U0CAROL>, <@U0DAVE> — extending…');
    expect(extensionCard(view).blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it("falls back to the target's maxDuration as the limit, and names who asked when it was not the requester", () => {
    const view: ExtensionCardView = {
      ...extensionPending,
      target,
      extension: { ...pendingExtension, requestedBy: 'U0DAVE' },
    };
    const text = allText(extensionCard(view));
    expect(text).toContain('*Total length*\n1h30m (limit 4h)');
    expect(text).toContain('*Requester*\n<@U0ALICE> (extension asked by <@U0DAVE>)');
  });

  it('escapes the original reason and the deny reason', () => {
    const view: ExtensionCardView = {
      ...extensionPending,
      grant: { ...extending, reason: '<!here> fix it' },
      outcome: { kind: 'denied', by: 'U0DAVE', reason: 'no <!channel> & no' },
    };
    const text = allText(extensionCard(view));
    expect(text).toContain('&lt;!here&gt; fix it');
    expect(text).toContain('no &lt;!channel&gt; &amp; no');
    expect(text).not.toMatch(/<!here>|<!channel>/);
  });
});

describe('notice, issue 3', () => {
  it("ready carries [I'm done] and [Extend] with the grant id", () => {
    const message = notice({ kind: 'ready', grant: active, target, nodes, region: 'ap-northeast-1' });
    expect(message.blocks.at(-1)).toMatchObject({
      type: 'actions',
      elements: [
        { action_id: ACTION_RELEASE, value: 'a1b2' },
        { action_id: ACTION_EXTEND, value: 'a1b2' },
      ],
    });
  });

  it('warning rounds the time left up, and leaves it out without a clock', () => {
    const at = (iso: string) => notice({ kind: 'warning', grant: active, target }, new Date(iso)).text;
    expect(at('2026-11-03T13:55:48Z')).toContain('(in about 10 minutes)');
    expect(at('2026-11-03T14:04:30Z')).toContain('(in about 1 minute)');
    expect(at('2026-11-03T14:06:00Z')).toContain('(in about 1 minute)');
    expect(notice({ kind: 'warning', grant: active, target }).text).toBe(
      `Your access to prod-raspi (a1b2) ends ${slackDate('2026-11-03T14:05:00Z')}.`,
    );
  });

  it("warning offers only [I'm done] while an extension is in flight", () => {
    const message = notice({ kind: 'warning', grant: extending, target });
    expect(allText(message)).toContain('Your request to extend it by 30m is waiting for approval.');
    const actions = message.blocks.filter((b) => b.type === 'actions');
    expect(actions).toEqual([
      expect.objectContaining({ elements: [expect.objectContaining({ action_id: ACTION_RELEASE })] }),
    ]);
  });

  it('warning offers [Extend] again once an earlier extension is finished', () => {
    const grant: Grant = { ...active, extension: { ...approvedExtension, state: 'extended' } };
    const elements = notice({ kind: 'warning', grant, target }).blocks.find((b) => b.type === 'actions');
    expect(elements).toMatchObject({
      elements: [{ action_id: ACTION_RELEASE }, { action_id: ACTION_EXTEND }],
    });
  });

  it('ended after a failure says what happened', () => {
    const grant = ended({ status: 'failed', by: 'keyturn', at: '2026-11-03T13:40:00Z' }, 1, {
      failureReason: 'the grant policy was deleted <outside> Keyturn',
    });
    const text = allText(notice({ kind: 'ended', grant, target }));
    expect(text).toContain('*What happened:* the grant policy was deleted &lt;outside&gt; Keyturn');
    expect(text).toContain('Access was removed; 1 open session was ended.');
  });

  it('ended without an `ending` reads who revoked from the history', () => {
    const grant: Grant = {
      ...active,
      status: 'revoked',
      history: [
        ...active.history,
        { at: '2026-11-03T13:30:00Z', from: 'active', to: 'revoked', by: 'U0DAVE' },
      ],
    };
    expect(notice({ kind: 'ended', grant, target }).text).toBe(
      `Your access to prod-raspi (a1b2) was revoked by <@U0DAVE> ${slackDate('2026-11-03T13:30:00Z')}.`,
    );
  });

  it('ended names who released it when that was not the requester', () => {
    const grant = ended({ ...releasedEnding, by: 'U0DAVE' }, 0);
    expect(notice({ kind: 'ended', grant, target }).text).toContain(': released by <@U0DAVE>.');
  });

  it('lapsed says nobody decided in time and how to ask again', () => {
    const message = notice({ kind: 'lapsed', grant: { ...requested, status: 'lapsed' }, target });
    expect(message.text).toBe(
      'Nobody decided on your request a1b2 for prod-raspi within 30m, so nothing was granted.',
    );
    expect(allText(message)).toContain('Request again with `/access prod-raspi`.');
  });

  it('extended gives the new end time and the approver', () => {
    const grant: Grant = {
      ...active,
      expiresAt: '2026-11-03T14:35:00Z',
      extendedMinutes: 30,
      history: [
        ...active.history,
        {
          at: '2026-11-03T13:53:00Z',
          from: 'active',
          to: 'active',
          event: 'extension-approved',
          by: 'U0DAVE',
        },
      ],
    };
    expect(notice({ kind: 'extended', grant, target }).text).toBe(
      `Your access to prod-raspi (a1b2) was extended until ${slackDate('2026-11-03T14:35:00Z')} (approved by <@U0DAVE>).`,
    );
  });

  it('extension-denied gives who, why (escaped) and the unchanged end time', () => {
    const text = allText(
      notice({ kind: 'extension-denied', grant: extending, target, by: 'U0DAVE', reason: '<!channel> & no' }),
    );
    expect(text).toContain('was denied by <@U0DAVE>.');
    expect(text).toContain('*Reason:* &lt;!channel&gt; &amp; no');
    expect(text).toContain(`Your access still ends ${slackDate('2026-11-03T14:05:00Z')}.`);
    expect(text).not.toContain('<!channel>');
    expect(
      allText(notice({ kind: 'extension-denied', grant: extending, target, by: 'U0DAVE', reason: '  ' })),
    ).toContain('*Reason:* no reason given');
  });

  it('marks every mrkdwn object verbatim in the new messages', () => {
    const messages = [
      extensionCard(extensionPending),
      extensionCard(extensionDone),
      notice({ kind: 'warning', grant: active, target }),
      notice({ kind: 'ended', grant: ended(revokedEnding, 1), target }),
      notice({ kind: 'lapsed', grant: requested, target }),
      notice({ kind: 'extended', grant: active, target }),
      notice({ kind: 'extension-denied', grant: active, target, by: 'U0DAVE' }),
      auditMessage({ kind: 'policy-missing', grant: active }),
    ];
    for (const message of messages) {
      const mrkdwn = textObjects(message.blocks).filter((t) => t.obj.type === 'mrkdwn');
      expect(mrkdwn.length).toBeGreaterThan(0);
      for (const t of mrkdwn) expect(t.obj.verbatim).toBe(true);
    }
  });
});

describe('auditMessage', () => {
  const policyArn = 'arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2';

  it('orphan-policy-removed names the policy, the grant and whom it was detached from', () => {
    const message = auditMessage({
      kind: 'orphan-policy-removed',
      policyArn,
      grantId: 'a1b2',
      detachedFrom: [
        { kind: 'user', name: 'alice' },
        { kind: 'role', name: 'oncall-bob' },
      ],
    });
    const text = allText(message);
    expect(text).toContain(`\`${policyArn}\``);
    expect(text).toContain('no grant explains it');
    expect(text).toContain('grant a1b2');
    expect(text).toContain('• IAM user `alice`\n• IAM role `oncall-bob`');
    expect(message.text).toContain(policyArn);
  });

  it('orphan-policy-removed without a grant or attachments says so', () => {
    const text = allText(auditMessage({ kind: 'orphan-policy-removed', policyArn, detachedFrom: [] }));
    expect(text).toContain('It was not attached to anyone.');
    expect(text).not.toContain('named for grant');
  });

  it('sessions-not-ended names the grant, the requester and each session id', () => {
    const message = auditMessage({
      kind: 'sessions-not-ended',
      grant: ended(expiredEnding, 0),
      sessionIds: ['alice-0a1b2c3d4e5f60001', 'alice-0a1b2c3d4e5f60002'],
    });
    const text = allText(message);
    expect(text).toContain('*2 sessions may still be open:* grant a1b2 (<@U0ALICE> on prod-raspi)');
    expect(text).toContain('• `alice-0a1b2c3d4e5f60001`\n• `alice-0a1b2c3d4e5f60002`');
    expect(text).toContain('aws ssm terminate-session');
  });

  it('policy-missing names the grant and the requester and says it was marked failed', () => {
    const text = allText(auditMessage({ kind: 'policy-missing', grant: active }));
    expect(text).toContain('grant a1b2 (<@U0ALICE> on prod-raspi)');
    expect(text).toContain(`\`${policyArn}\``);
    expect(text).toContain('marked failed');
  });

  it('grant-refused names the grant, the reason (escaped) and that nothing was created', () => {
    const message = auditMessage({
      kind: 'grant-refused',
      grant: { ...approved, status: 'failed' },
      step: 'apply',
      reason: 'the grant names IAM user <@U999> & co',
    });
    const text = allText(message);
    expect(text).toContain('*Refused to apply grant a1b2 (<@U0ALICE> on prod-raspi):*');
    expect(text).toContain('the grant names IAM user &lt;@U999&gt; &amp; co');
    expect(text).toContain('Nothing was created in IAM');
    expect(text).toContain("check who can write to Keyturn's table");
    expect(text).not.toContain('<@U999>');
    expect(message.text).toContain('refused to apply grant a1b2');
  });

  it('grant-refused for an extension says no policy version was made and the grant is ending', () => {
    const text = allText(
      auditMessage({ kind: 'grant-refused', grant: active, step: 'extension', reason: 'x' }),
    );
    expect(text).toContain('*Refused to extend grant a1b2');
    expect(text).toContain('No new policy version was made');
  });

  it('run-refused names the run, who asked, the snippet, the target and that nothing was sent', () => {
    const run = {
      id: 'r1',
      snippet: 'logs',
      target: 'prod-raspi',
      params: {},
      command: 'x',
      requester: 'U0DAVE',
      channel: 'C0WORK',
      status: 'failed' as const,
      version: 2,
      requestedAt: '2026-11-03T13:00:00Z',
      needsApproval: false,
      approvals: [],
      comment: 'Keyturn run r1',
      deliveryTimeoutSeconds: 300,
      simulated: false,
    };
    const text = allText(
      auditMessage({ kind: 'run-refused', run, reason: 'the stored command is not <it>' }),
    );
    expect(text).toContain(
      '*Refused to send run r1* (<@U0DAVE>: logs on prod-raspi): the stored command is not &lt;it&gt;.',
    );
    expect(text).toContain('Nothing was sent to any node');
  });

  it('revoke-failed escapes the error and drops anything secret-shaped', () => {
    const error =
      'AccessDenied <@U123> & <!channel> for AKIAIOSFODNN7EXAMPLE with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY via xoxb-1234-abcd';
    const message = auditMessage({ kind: 'revoke-failed', grant: ending(revokedEnding), error });
    const text = allText(message);
    expect(text).toContain('grant a1b2 (<@U0ALICE> on prod-raspi) failed:');
    expect(text).toContain(
      'AccessDenied &lt;@U123&gt; &amp; &lt;!channel&gt; for [redacted] with [redacted] via [redacted]',
    );
    expect(text).not.toMatch(/AKIA|wJalr|xoxb|<!channel>|<@U123>/);
    expect(text).toContain(slackDate('2026-11-03T14:05:00Z'));
  });

  it('fits 500 session ids, 500 principals and a huge error into one message each', () => {
    const sessionIds = Array.from(
      { length: 500 },
      (_, i) => `role-AROAEXAMPLEID:session-${'x'.repeat(90)}-${i}`,
    );
    const events: AuditEvent[] = [
      { kind: 'sessions-not-ended', grant: active, sessionIds },
      {
        kind: 'orphan-policy-removed',
        policyArn,
        detachedFrom: Array.from({ length: 500 }, (_, i) => ({
          kind: 'role' as const,
          name: `r${'y'.repeat(120)}${i}`,
        })),
      },
      { kind: 'revoke-failed', grant: active, error: `${'<boom> '.repeat(2000)}` },
    ];
    for (const event of events) {
      const message = auditMessage(event);
      expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
      for (const { where, obj } of textObjects(message.blocks)) {
        expect(obj.text.length).toBeLessThanOrEqual(where === 'field' ? MAX_FIELD_TEXT : MAX_SECTION_TEXT);
      }
    }
    const sessions = allText(auditMessage(events[0]!));
    expect(sessions).toMatch(/\n…and \d+ more$/);
    const shown = sessions.split('\n').filter((l) => l.startsWith('• ')).length;
    expect(sessions).toContain(`…and ${500 - shown} more`);
    expect(shown).toBeGreaterThan(0);
    expect(allText(auditMessage(events[1]!))).toMatch(/\n…and \d+ more$/);
  });
});

describe('redactSecrets', () => {
  it('leaves ARNs, session ids and ordinary words alone', () => {
    const text = 'arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2 alice-0a1b2c3d4e5f60001 NoSuchEntity';
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('extensionDenyReasonModal', () => {
  it('has its own callback id, the grant id, and the shared reason input', () => {
    const view = extensionDenyReasonModal('a1b2');
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: VIEW_EXTENSION_DENY_REASON,
      private_metadata: 'a1b2',
      submit: { type: 'plain_text', text: 'Deny' },
    });
    expect(VIEW_EXTENSION_DENY_REASON).not.toBe(VIEW_DENY_REASON);
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(view.blocks.find((b) => b.type === 'input')).toMatchObject({
      block_id: BLOCK_DENY_REASON,
      optional: true,
      element: { action_id: INPUT_DENY_REASON, max_length: 500 },
    });
  });
});
