import type { AwsProfile } from '../../../src/domain/person';
import type { Grant } from '../../../src/domain/grant';
import type { ManagedNode } from '../../../src/domain/node';
import type { Target } from '../../../src/domain/target';
import { ACTION_EXTEND, ACTION_RELEASE } from '../../../src/adapters/slack/action-ids';
import { auditMessage } from '../../../src/adapters/slack/audit-alert-blocks';
import { slackDate } from '../../../src/adapters/slack/block-kit';
import { extensionCard } from '../../../src/adapters/slack/extension-card-blocks';
import { notice } from '../../../src/adapters/slack/notice-blocks';
import {
  target,
  nodes,
  requested,
  approved,
  active,
  denied,
  failed,
  ended,
  expiredEnding,
  revokedEnding,
  releasedEnding,
  extending,
  extensionPending,
  approvedExtension,
  extensionDone,
  golden,
  wire,
  textObjects,
  allText,
} from '../../support/grant-messages';

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

describe('issue 3 golden files', () => {
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
