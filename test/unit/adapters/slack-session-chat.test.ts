import { LogLevel, WebClient } from '@slack/web-api';
import { ChatError } from '../../../src/adapters/slack/chat-calls';
import { createSlackSessionChat } from '../../../src/adapters/slack/slack-session-chat';
import { composeDigest } from '../../../src/domain/digest';
import type { Grant } from '../../../src/domain/grant';
import type { Session } from '../../../src/domain/session';
import { fixedDayInput } from '../../support/digest-fixture';
import { testConfig } from '../../support/fakes';
import { startFakeSlack } from '../../support/slack-requests';

let slack: Awaited<ReturnType<typeof startFakeSlack>>;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack.close();
});

function chat() {
  const client = new WebClient('xoxb-test', {
    slackApiUrl: slack.url,
    logLevel: LogLevel.ERROR,
    retryConfig: { retries: 0 },
  });
  return createSlackSessionChat({ client, served: testConfig().aws });
}

const card = { channel: 'C0APPROVALS', ts: '1700000000.000100' };
const grant = { id: 'g1', requester: 'U0ALICE', card } as Grant;
const session: Session = {
  id: 'alice-0a1b2c3d4e5f6a7b8',
  version: 2,
  status: 'ended',
  firstSeenAt: '2026-11-23T10:05:00.000Z',
  owner: 'arn:aws:iam::123456789012:user/alice',
  node: { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1' },
  document: 'shell',
  startedAt: '2026-11-23T10:05:00.000Z',
  endedAt: '2026-11-23T10:35:00.000Z',
  grantId: 'g1',
};

describe('createSlackSessionChat', () => {
  it('posts the start line and the summary as replies under the approval card', async () => {
    const c = chat();
    await c.postSessionStarted(card, { session, grant });
    await c.postSessionSummary(card, { session, grant, ending: { kind: 'no-api-call' } });
    const replies = slack.api.messagesIn('C0APPROVALS').filter((m) => m.threadTs === card.ts);
    expect(replies.map((m) => m.text)).toEqual([
      expect.stringMatching(/^<@U0ALICE> opened a shell on raspi-line-1/),
      expect.stringMatching(/^Shell of <@U0ALICE> on raspi-line-1 .* ended \(30m\)/),
    ]);
    expect(replies[1]?.blocks.length).toBeGreaterThan(0);
  });

  it('posts anomalies and the digest to the channel itself, not in a thread', async () => {
    const c = chat();
    await c.postUnmatchedSession('C0AUDIT', { session: { ...session, unmatched: true }, people: [] });
    await c.postDigest('C0AUDIT', composeDigest(fixedDayInput()));
    const audit = slack.api.messagesIn('C0AUDIT');
    expect(audit).toHaveLength(2);
    expect(audit.every((m) => m.threadTs === undefined)).toBe(true);
    expect(audit[1]?.text).toMatch(/^Keyturn digest for Monday 23 November 2026/);
  });

  it('turns a Slack refusal into a ChatError with Slack’s own code', async () => {
    const c = chat();
    const refused = c.postDigest('', composeDigest(fixedDayInput()));
    await expect(refused).rejects.toBeInstanceOf(ChatError);
    await expect(refused).rejects.toMatchObject({ code: 'channel_not_found', method: 'chat.postMessage' });
  });
});
