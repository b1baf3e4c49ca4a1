import type { AuditEvent } from '../../../src/ports/chat';
import { auditMessage } from '../../../src/adapters/slack/audit-alert-blocks';
import {
  MAX_BLOCKS,
  MAX_FIELD_TEXT,
  MAX_SECTION_TEXT,
  slackDate,
} from '../../../src/adapters/slack/block-kit';
import {
  approved,
  active,
  ending,
  ended,
  expiredEnding,
  revokedEnding,
  textObjects,
  allText,
} from '../../support/grant-messages';

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

  it('accounts-unreachable names each account, its error (redacted) and its waiting grants, 20 at most', () => {
    const grants = Array.from({ length: 30 }, (_, i) => ({ ...ending(expiredEnding), id: `c${i}` }));
    const message = auditMessage({
      kind: 'accounts-unreachable',
      accounts: [
        {
          accountId: '777788889999',
          alias: 'frankfurt',
          error:
            'Keyturn could not assume arn:aws:iam::777788889999:role/keyturn-grantor (AccessDenied) AKIAIOSFODNN7EXAMPLE',
          grants,
        },
      ],
    });
    const text = allText(message);
    expect(message.text).toBe('Keyturn could not reach frankfurt (777788889999): 30 revokes wait.');
    expect(text).toContain(
      '*Keyturn could not reach account frankfurt (777788889999):* Keyturn could not assume',
    );
    expect(text).toContain('30 grants are past due');
    expect(text).toContain('• grant c0 (<@U0ALICE> on prod-raspi)');
    expect(text).toContain('…and 10 more');
    expect(text).not.toContain('c20 (');
    expect(text).not.toMatch(/AKIA/);
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
