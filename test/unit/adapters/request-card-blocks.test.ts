import type { Ending, Grant, GrantStatus } from '../../../src/domain/grant';
import type { ManagedNode } from '../../../src/domain/node';
import type { Target } from '../../../src/domain/target';
import { ACTION_APPROVE, ACTION_DENY } from '../../../src/adapters/slack/action-ids';
import {
  escapeMrkdwn,
  MAX_BLOCKS,
  MAX_FIELD_TEXT,
  MAX_SECTION_TEXT,
  slackDate,
} from '../../../src/adapters/slack/block-kit';
import { notice } from '../../../src/adapters/slack/notice-blocks';
import {
  target,
  requested,
  oneApproval,
  approved,
  active,
  denied,
  failed,
  ending,
  ended,
  expiredEnding,
  revokedEnding,
  releasedEnding,
  golden,
  wire,
  textObjects,
  allText,
  card,
} from '../../support/grant-messages';

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
