import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SlackMessage } from '../../../src/adapters/slack/block-kit';
import {
  endingText,
  sessionStartedReply,
  sessionSummary,
  unmatchedSessionAudit,
} from '../../../src/adapters/slack/session-blocks';
import type { Grant } from '../../../src/domain/grant';
import type { Session, SessionEnding } from '../../../src/domain/session';
import type { SessionSummaryView } from '../../../src/ports/session-chat';

function expectGolden(name: string, message: SlackMessage): void {
  const file = join(__dirname, '__golden__', `${name}.json`);
  const actual = JSON.parse(JSON.stringify(message));
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  if (!existsSync(file))
    throw new Error(`golden file ${file} is missing; run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

const text = (m: SlackMessage) => `${m.text}\n${JSON.stringify(m.blocks)}`;

const grant: Grant = {
  id: 'a1b2c3',
  requester: 'U0ALICE',
  principal: { kind: 'user', name: 'alice' },
  target: 'prod-raspi',
  durationMinutes: 60,
  reason: 'replace sensor on line 3',
  status: 'active',
  version: 4,
  requestedAt: '2026-11-23T10:00:00Z',
  approvals: [{ by: 'U0CAROL', at: '2026-11-23T10:02:00Z' }],
  startsAt: '2026-11-23T10:02:00Z',
  expiresAt: '2026-11-23T11:02:00Z',
  card: { channel: 'C0APPROVALS', ts: '1795428000.000100' },
  history: [],
};

const shell: Session = {
  id: 'alice-0a1b2c3d4e5f6a7b8',
  version: 2,
  status: 'active',
  firstSeenAt: '2026-11-23T10:05:00.000Z',
  owner: 'arn:aws:iam::123456789012:user/alice',
  node: { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1' },
  document: 'shell',
  documentName: 'SSM-SessionManagerRunShell',
  startedAt: '2026-11-23T10:05:00.000Z',
  grantId: 'a1b2c3',
};

const sshEnded: Session = {
  ...shell,
  status: 'ended',
  document: 'ssh',
  documentName: 'AWS-StartSSHSession',
  endedAt: '2026-11-23T10:47:30.000Z',
  end: { kind: 'api-call', by: 'arn:aws:sts::123456789012:assumed-role/keyturn-prod/keyturn-prod-worker' },
  outputUrl:
    'https://s3.console.aws.amazon.com/s3/object/keyturn-session-logs?prefix=sessions/alice-0a1b2c3d4e5f6a7b8.log',
  historyAt: '2026-11-23T10:48:00.000Z',
};

const summary = (session: Session, ending: SessionEnding): SessionSummaryView => ({ session, grant, ending });

describe('sessionStartedReply', () => {
  it('one short line: who opened what on which node (golden)', () => {
    const m = sessionStartedReply({ session: shell, grant });
    expectGolden('session-started', m);
    expect(m.blocks).toHaveLength(1);
    expect(m.text).toMatch(/^<@U0ALICE> opened a shell on raspi-line-1 \(`mi-0a1b2c3d4e5f60001`\) <!date\^/);
  });

  it('names the document when it is not one Keyturn knows, and a node without a name by its id', () => {
    const m = sessionStartedReply({
      session: { ...shell, document: 'other', documentName: 'SSM-sudo', node: { id: 'i-0123456789abcdef0' } },
      grant,
    });
    expect(m.text).toContain('opened a session (`SSM-sudo`) on `i-0123456789abcdef0`');
  });
});

describe('sessionSummary', () => {
  it('an SSH session revoked by an approver, with its S3 log and the not-transcribed note (golden)', () => {
    const m = sessionSummary(
      summary(sshEnded, { kind: 'grant-ended', status: 'revoked', by: 'U0CAROL', reason: 'incident over' }),
    );
    expectGolden('session-summary-revoked-ssh', m);
    const t = text(m);
    expect(t).toContain('revoked by <@U0CAROL>: incident over');
    // 42m30s, rounded to the nearest minute.
    expect(t).toContain('(43m)');
    expect(t).toContain('|S3>');
    expect(t).toContain('SSH sessions are not transcribed');
  });

  it.each<[SessionEnding, string]>([
    [{ kind: 'exited', by: 'arn:aws:iam::123456789012:user/alice' }, 'exited: <@U0ALICE> ended it'],
    [{ kind: 'grant-ended', status: 'expired', by: 'keyturn' }, 'terminated by Keyturn at expiry'],
    [
      { kind: 'grant-ended', status: 'released', by: 'U0ALICE' },
      'terminated by Keyturn when <@U0ALICE> released access',
    ],
    [
      {
        kind: 'grant-ended',
        status: 'failed',
        by: 'keyturn',
        reason: 'its IAM policy was removed outside Keyturn',
      },
      'terminated by Keyturn: the grant failed (its IAM policy was removed outside Keyturn)',
    ],
    [
      { kind: 'terminated', by: 'arn:aws:iam::123456789012:user/admin' },
      'terminated by `arn:aws:iam::123456789012:user/admin`',
    ],
    [{ kind: 'no-api-call' }, 'ended on the node with no API call (`exit`, idle timeout or a lost agent)'],
  ])('how it ended: %p', (ending, words) => {
    expect(endingText(summary(sshEnded, ending))).toBe(words);
  });

  it('a shell session with CloudWatch logging: a CloudWatch link and no transcription note', () => {
    const m = sessionSummary(
      summary(
        {
          ...sshEnded,
          document: 'shell',
          outputUrl:
            'https://console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#logEventViewer:group=ssm;stream=alice-0a1b',
        },
        { kind: 'no-api-call' },
      ),
    );
    const t = text(m);
    expect(t).toContain('|CloudWatch Logs>');
    expect(t).not.toContain('not transcribed');
    expect(m.text).toMatch(/^Shell of <@U0ALICE> on raspi-line-1/);
  });

  it('no log line when session logging is off; port forwards get their note', () => {
    const t = text(
      sessionSummary(
        summary({ ...sshEnded, document: 'port-forward', outputUrl: undefined }, { kind: 'no-api-call' }),
      ),
    );
    expect(t).not.toContain('*Log:*');
    expect(t).toContain('Port-forwarding sessions are not transcribed');
  });

  it('a log URL that is not plain HTTPS is shown as code, never as a link', () => {
    const t = text(
      sessionSummary(
        summary({ ...sshEnded, outputUrl: 's3://bucket/x|<!channel>' }, { kind: 'no-api-call' }),
      ),
    );
    expect(t).toContain('S3: `s3://bucket/x|&lt;!channel&gt;`');
  });
});

describe('unmatchedSessionAudit', () => {
  it('names the owner, the people mapped to it, and the node (golden)', () => {
    const m = unmatchedSessionAudit({
      session: {
        ...shell,
        grantId: undefined,
        unmatched: true,
        owner: 'arn:aws:sts::123456789012:assumed-role/oncall-dave/dave',
        node: { id: 'i-0fedcba9876543210', name: 'build-runner-1' },
      },
      people: ['U0DAVE'],
    });
    expectGolden('session-unmatched', m);
    expect(text(m)).toContain('standing `ssm:StartSession`');
  });
});

// Issue 11 point 9: names and ids from the node and from CloudTrail reached `text` unescaped.
describe('a node, owner or reason named like a Slack token shows literally, in text as in blocks', () => {
  const hostile = '<!channel> <https://evil|click>';
  const escaped = '&lt;!channel&gt; &lt;https://evil|click&gt;';
  const hostileSession: Session = {
    ...shell,
    owner: hostile,
    node: { id: hostile, name: hostile },
  };
  const noToken = (m: SlackMessage) => {
    for (const field of [m.text, JSON.stringify(m.blocks)]) {
      expect(field).not.toContain('<!channel>');
      expect(field).not.toContain('<https://evil');
    }
  };

  it('in the session-started reply and the summary', () => {
    const started = sessionStartedReply({ session: hostileSession, grant });
    noToken(started);
    expect(started.text).toContain(`on ${escaped} (`);
    const ended = sessionSummary(
      summary(
        { ...hostileSession, status: 'ended', endedAt: '2026-11-23T10:47:30.000Z' },
        { kind: 'grant-ended', status: 'revoked', by: 'U0CAROL', reason: hostile },
      ),
    );
    noToken(ended);
    expect(ended.text).toContain(escaped);
  });

  it('in the audit message for a session without a grant', () => {
    const m = unmatchedSessionAudit({
      session: { ...hostileSession, grantId: undefined, unmatched: true },
      people: [],
    });
    noToken(m);
    expect(m.text).toBe(`A session matched no Keyturn grant: ${escaped} on ${escaped}`);
  });
});
