import type { PostedMessage } from '../../src/adapters/sandbox/fake-slack-api';
import { SimulatedRunCommand } from '../../src/adapters/sandbox/simulated-run-command';
import { ACTION_RUN_APPROVE, ACTION_RUN_DENY } from '../../src/adapters/slack/action-ids';
import { type Harness, startHarness, textOf } from '../support/harness';
import { FLEET, runConfig } from '../support/run-scenarios';
import { buttonClick, slashCommand } from '../support/slack-requests';

describe('Run Command over the real HTTP server with signed Slack requests', () => {
  let h: Harness;
  const start = async (config = runConfig()) => {
    h = await startHarness({ config });
  };
  afterEach(async () => {
    await h?.close();
  });

  const simulated = (): SimulatedRunCommand => {
    const commands = h.keyturn.deps.aws.commands({
      accountId: h.keyturn.deps.config.aws.accountId,
      region: h.keyturn.deps.config.aws.region,
    });
    if (!(commands instanceof SimulatedRunCommand))
      throw new Error('sandbox mode runs the simulated Run Command');
    return commands;
  };
  const run = (user: string, text: string) => h.command(user, text, '/run');
  const runIdOf = (reply: string) => {
    const id = /run `([a-z0-9]+)`/.exec(reply)?.[1];
    if (!id) throw new Error(`no run id in: ${reply}`);
    return id;
  };
  const parents = () => h.slack.api.messagesIn('C0WORK').filter((m) => !m.threadTs && !m.visibleTo);
  const thread = (parent: PostedMessage) =>
    h.slack.api.messagesIn('C0WORK').filter((m) => m.threadTs === parent.ts);

  it('a runner runs a snippet: one message in the channel, one result per node in its thread, then the summary', async () => {
    await start();
    const reply = await run('U0DAVE', 'prod-raspi disk');
    expect(reply).toMatch(
      /^Running `disk` on prod-raspi \(run `[a-z0-9]+`\): the results per node will appear in a thread/,
    );

    expect(simulated().sent).toHaveLength(1);
    expect(simulated().sent[0]).toMatchObject({ targetTags: { Fleet: 'prod-raspi' }, commands: ['df -h /'] });
    const [parent] = parents();
    expect(parents()).toHaveLength(1);
    if (!parent) throw new Error('no run message');
    expect(parent.text).toBe(
      'Finished `disk` on prod-raspi (simulated) — 3 nodes (1 offline) — requested by <@U0DAVE>',
    );
    expect(textOf(parent)).toContain('*Summary:* 2 succeeded · 1 undeliverable');
    const replies = thread(parent);
    expect(replies.map((m) => m.text)).toEqual([
      'raspi-line-1: succeeded (simulated)',
      'raspi-line-2: succeeded (simulated)',
      'raspi-line-3: undeliverable (SSM could not reach the node) (simulated)',
    ]);
    expect(textOf(replies[0])).toContain('(simulated) raspi-line-1 $ df -h /');
  });

  it('approval path: card to the approvers, refusals for others, one SendCommand on approval', async () => {
    await start();
    await h.activeGrant(); // alice, through /access and carol's approval
    const reply = await run('U0ALICE', 'prod-raspi restart-agent');
    expect(reply).toContain('needs approval: sent to the approvers of prod-raspi in <#C0APPROVALS>');
    const runId = runIdOf(reply);
    const card = h.slack.api.messagesIn('C0APPROVALS').at(-1) as PostedMessage;
    expect(textOf(card)).toContain('```sudo systemctl restart amazon-ssm-agent```');
    expect(textOf(card)).toContain('3 nodes (1 offline)');
    expect(JSON.stringify(card.blocks)).toContain(ACTION_RUN_APPROVE);
    expect(parents().map((m) => m.text)).toEqual([
      ':hourglass_flowing_sand: Waiting for approval: `restart-agent` on prod-raspi (simulated) — 3 nodes (1 offline) — requested by <@U0ALICE>',
    ]);
    expect(simulated().sent).toEqual([]);

    await h.click('U0BOB', runId, card, ACTION_RUN_APPROVE);
    expect(h.slack.api.ephemeralsFor('U0BOB').at(-1)?.text).toContain(
      'Only the approvers of prod-raspi can decide on this run',
    );
    expect(simulated().sent).toEqual([]);

    expect((await h.click('U0CAROL', runId, card, ACTION_RUN_APPROVE)).status).toBe(200);
    expect(simulated().sent).toHaveLength(1);
    expect(simulated().sent[0]).toMatchObject({
      commands: ['sudo systemctl restart amazon-ssm-agent'],
      executionTimeoutSeconds: 60,
      comment: `Keyturn run ${runId} by U0ALICE: restart-agent on prod-raspi`,
    });
    const updated = h.slack.api.messagesIn('C0APPROVALS').find((m) => m.ts === card.ts);
    expect(JSON.stringify(updated?.blocks)).not.toContain(ACTION_RUN_APPROVE);
    expect(textOf(updated)).toContain('*Approved* by <@U0CAROL> — running in <#C0WORK>');
    const [parent] = parents();
    expect(parent?.text).toContain('Finished `restart-agent` on prod-raspi');
    expect(thread(parent as PostedMessage)).toHaveLength(3);
  });

  it('a requester who is also an approver cannot approve their own run; a denied run never runs', async () => {
    await start();
    const runId = runIdOf(await run('U0DAVE', 'prod-raspi restart-agent'));
    const card = h.slack.api.messagesIn('C0APPROVALS').at(-1) as PostedMessage;
    await h.click('U0DAVE', runId, card, ACTION_RUN_APPROVE);
    expect(h.slack.api.ephemeralsFor('U0DAVE').at(-1)?.text).toContain('You cannot approve your own run');
    await h.click('U0CAROL', runId, card, ACTION_RUN_DENY);
    expect(simulated().sent).toEqual([]);
    expect(parents()[0]?.text).toContain('was denied by <@U0CAROL>');
    await h.click('U0CAROL', runId, card, ACTION_RUN_APPROVE);
    expect(h.slack.api.ephemeralsFor('U0CAROL').at(-1)?.text).toContain(
      'is no longer waiting for a decision',
    );
    expect(simulated().sent).toEqual([]);
  });

  it('20 concurrent approve clicks send the command once', async () => {
    await start();
    const runId = runIdOf(await run('U0DAVE', 'prod-raspi restart-agent'));
    const card = h.slack.api.messagesIn('C0APPROVALS').at(-1) as PostedMessage;
    const body = buttonClick({ user: 'U0CAROL', actionId: ACTION_RUN_APPROVE, value: runId, card });
    const clicks = await Promise.all(Array.from({ length: 20 }, () => h.send(body)));
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    await h.keyturn.queue.idle();
    expect(simulated().sent).toHaveLength(1);
    expect(parents()).toHaveLength(1);
  });

  it('a retried /run request (same request, X-Slack-Retry-Num) makes one run and one SendCommand', async () => {
    await start();
    const body = slashCommand('U0DAVE', 'prod-raspi disk', '/run');
    const first = await h.send(body);
    const retry = await h.send(body, { retryNum: 1 });
    await h.keyturn.queue.idle();
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(JSON.parse(retry.body).text).toContain('Already received: Running `disk` on prod-raspi');
    expect(runIdOf(JSON.parse(retry.body).text)).toBe(runIdOf(JSON.parse(first.body).text));
    expect(simulated().sent).toHaveLength(1);
    expect(parents()).toHaveLength(1);
  });

  it.each([
    ['a mapped user with neither grant nor runner listing', 'U0BOB', 'you need an active grant on it'],
    ['an unmapped user', 'U0EVE', 'are not mapped to an AWS identity'],
  ])('%s is refused privately; nothing is posted or sent', async (_name, user, why) => {
    await start();
    expect(await run(user, 'prod-raspi disk')).toContain(why);
    expect(simulated().sent).toEqual([]);
    expect(h.slack.api.messages).toEqual([]);
  });

  it('an injection attempt is refused before anything is sent, naming the parameter and its pattern', async () => {
    await start();
    const reply = await run('U0DAVE', 'prod-raspi logs service=ssh;reboot');
    expect(reply).toBe(
      'The value of `service`, “ssh;reboot”, does not match its pattern `^[a-z0-9@._][a-z0-9@._-]{0,63}$`; the whole value must match. Nothing was run.',
    );
    expect(await run('U0DAVE', 'prod-raspi logs service=$(reboot)')).toContain('does not match its pattern');
    expect(simulated().sent).toEqual([]);
    expect(h.slack.api.messages).toEqual([]);
  });

  it('a target with no node online says so in the channel instead of hanging', async () => {
    await start(runConfig({ fleet: FLEET.map((n) => ({ ...n, ping: 'ConnectionLost' as const })) }));
    await run('U0DAVE', 'prod-raspi disk');
    expect(simulated().sent).toEqual([]);
    expect(parents().map((m) => m.text)).toEqual([
      ':warning: `disk` on prod-raspi (simulated) did not run: none of its 3 nodes (3 offline) is online — requested by <@U0DAVE>. Nothing was sent.',
    ]);
  });

  it('/run help lists the snippets, their parameters and defaults', async () => {
    await start();
    const help = await run('U0DAVE', 'help');
    expect(help).toContain(
      '*prod-raspi* (Production Raspberry Pi fleet) — you may run these (listed as a runner)',
    );
    expect(help).toContain('`lines=` (pattern `^[0-9]{1,4}$`; default `100`)');
  });
});
