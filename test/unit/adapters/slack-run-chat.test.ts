import { LogLevel, WebClient } from '@slack/web-api';
import { runApprovalCard } from '../../../src/adapters/slack/run-card-blocks';
import { runMessage } from '../../../src/adapters/slack/run-message-blocks';
import { runResultsMessage } from '../../../src/adapters/slack/run-result-blocks';
import { createSlackRunChat } from '../../../src/adapters/slack/slack-run-chat';
import { ChatError } from '../../../src/adapters/slack/chat-calls';
import type { CommandRun, NodeResult } from '../../../src/domain/command-run';
import { groupResults } from '../../../src/domain/result-groups';
import { prodRaspi, testConfig } from '../../support/fakes';
import { startFakeSlack } from '../../support/slack-requests';

const run: CommandRun = {
  id: 'r1',
  snippet: 'disk',
  target: 'prod-raspi',
  params: {},
  command: 'df -h /',
  requester: 'U0ALICE',
  channel: 'C0WORK',
  status: 'running',
  version: 4,
  requestedAt: '2026-11-23T10:00:00Z',
  needsApproval: false,
  approvals: [],
  nodes: [{ id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' }],
  comment: 'Keyturn run r1 by U0ALICE: disk on prod-raspi',
  deliveryTimeoutSeconds: 300,
  simulated: true,
};

const result: NodeResult = {
  nodeId: 'mi-0a1b2c3d4e5f60001',
  outcome: 'succeeded',
  status: 'Success',
  exitCode: 0,
  stdout: '/dev/root 29G',
  stdoutChars: 13,
  stderr: '',
  stderrChars: 0,
};

describe('createSlackRunChat', () => {
  let slack: Awaited<ReturnType<typeof startFakeSlack>>;
  let chat: ReturnType<typeof createSlackRunChat>;
  beforeAll(async () => {
    slack = await startFakeSlack();
    const client = new WebClient('xoxb-test', {
      slackApiUrl: slack.url,
      logLevel: LogLevel.ERROR,
      retryConfig: { retries: 0 },
    });
    chat = createSlackRunChat({ client, served: testConfig().aws });
  });
  afterAll(async () => {
    await slack.close();
  });

  it('posts the run message, replies in its thread without unfurling, and updates it in place', async () => {
    const target = prodRaspi;
    const ref = await chat.postRunMessage('C0WORK', { run, target });
    await chat.postResults(ref, { run, results: [result], batched: false });
    await chat.updateRunMessage(ref, {
      run: { ...run, status: 'finished', end: 'completed', counts: { succeeded: 1 } },
      target,
    });

    const [message, reply] = slack.api.messagesIn('C0WORK');
    expect(message).toMatchObject({ ts: ref.ts, updates: 1 });
    expect(message?.text).toBe(
      runMessage({ run: { ...run, status: 'finished', end: 'completed', counts: { succeeded: 1 } }, target })
        .text,
    );
    expect(reply).toMatchObject({
      threadTs: ref.ts,
      text: runResultsMessage({ run, results: [result], batched: false }).text,
    });
    const posted = slack.api.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.args);
    expect(posted.map((a) => [a.unfurl_links, a.unfurl_media])).toEqual([
      ['false', 'false'],
      ['false', 'false'],
    ]);
  });

  it('posts and updates the approval card', async () => {
    const view = {
      run: { ...run, status: 'awaiting-approval' as const, needsApproval: true },
      target: prodRaspi,
    };
    const ref = await chat.postApprovalCard('C0APPROVALS', view);
    await chat.updateApprovalCard(ref, {
      ...view,
      run: { ...view.run, status: 'denied', decidedBy: 'U0CAROL' },
    });
    const [card] = slack.api.messagesIn('C0APPROVALS');
    expect(card?.updates).toBe(1);
    expect(JSON.stringify(card?.blocks)).toContain('*Denied* by <@U0CAROL>');
    expect(runApprovalCard(view).text).toContain('Run request r1');
  });

  it("turns Slack's refusal into a ChatError carrying Slack's error string", async () => {
    const error = await chat
      .updateRunMessage({ channel: 'C0WORK', ts: '1.2' }, { run, target: prodRaspi })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect(error).toMatchObject({ code: 'message_not_found', method: 'chat.update' });
  });
});

describe('createSlackRunChat: pacing', () => {
  let slack: Awaited<ReturnType<typeof startFakeSlack>>;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(async () => {
    await slack.close();
  });

  /** A clock that stands still, so concurrent posts all see the same now: every wait is recorded. */
  function manualPacing() {
    const slept: number[] = [];
    return {
      slept,
      pacing: {
        intervalMs: 1_000,
        now: () => 1_000_000,
        sleep: async (ms: number) => {
          slept.push(ms);
        },
      },
    };
  }

  it('spaces posts to one channel a second apart, even when they are made at once; other channels do not wait', async () => {
    const client = new WebClient('xoxb-test', {
      slackApiUrl: slack.url,
      logLevel: LogLevel.ERROR,
      retryConfig: { retries: 0 },
    });
    const clock = manualPacing();
    const chat = createSlackRunChat({ client, served: testConfig().aws, pacing: clock.pacing });
    const ref = await chat.postRunMessage('C0PACED', { run, target: prodRaspi });
    await Promise.all([
      chat.postResults(ref, { run, results: [result], batched: false }),
      chat.postResults(ref, { run, results: [result], batched: false }),
      chat.postRunMessage('C0OTHER', { run, target: prodRaspi }),
    ]);
    // The run message went at once; the two replies waited for the channel's next free seconds.
    expect([...clock.slept].sort((a, b) => a - b)).toEqual([1_000, 2_000]);
    expect(slack.api.messagesIn('C0PACED')).toHaveLength(3);
    expect(slack.api.messagesIn('C0OTHER')).toHaveLength(1);
  });

  it('posts grouped results as a few paced replies in the thread', async () => {
    const client = new WebClient('xoxb-test', {
      slackApiUrl: slack.url,
      logLevel: LogLevel.ERROR,
      retryConfig: { retries: 0 },
    });
    const clock = manualPacing();
    const chat = createSlackRunChat({ client, served: testConfig().aws, pacing: clock.pacing });
    const ref = await chat.postRunMessage('C0GROUPS', { run, target: prodRaspi });
    const many = Array.from({ length: 500 }, (_, i) => ({
      ...result,
      nodeId: `mi-${String(i).padStart(17, '0')}`,
      nodeName: `raspi-${i}`,
      // 15 different outputs: two replies of up to 10 groups.
      stdout: `/dev/root 29G ${i % 15}%`,
    }));
    await chat.postResultGroups(ref, { run, groups: groupResults(many) });
    const replies = slack.api.messagesIn('C0GROUPS').filter((m) => m.threadTs === ref.ts);
    expect(replies).toHaveLength(2);
    expect(clock.slept).toEqual([1_000, 2_000]);
  });
});
