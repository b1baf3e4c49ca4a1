import { decideOnRun } from '../../../src/app/decide-run';
import { handleJob } from '../../../src/app/handle-job';
import { SEND_CLAIM_MS, startRun } from '../../../src/app/start-run';
import type { CommandRun } from '../../../src/domain/command-run';
import { CommandRunnerError } from '../../../src/ports/command-runner';
import { activeGrant, drain, FLEET, PI1, PI2, PI3, run, runScenario } from '../../support/run-scenarios';

/** Runs the start-run job the request queued (and nothing else). */
async function startQueued(s: ReturnType<typeof runScenario>, runId = 'r1') {
  s.queue.jobs.splice(0);
  return startRun(s.deps, runId);
}

describe('startRun: one SendCommand per run', () => {
  it('sends AWS-RunShellScript to the target by its tags, with the snippet limits and a naming comment', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi logs service=ssh');
    expect(await startQueued(s)).toBe('sent');
    expect(s.commands.sent).toEqual([
      {
        documentName: 'AWS-RunShellScript',
        targetTags: { Fleet: 'prod-raspi' },
        commands: ["journalctl -u 'ssh' -n '100' --no-pager"],
        deliveryTimeoutSeconds: 300,
        executionTimeoutSeconds: 120,
        maxConcurrency: '10',
        maxErrors: '1',
        comment: 'Keyturn run r1 by U0DAVE: logs on prod-raspi',
      },
    ]);
    const stored = await s.runs.get('r1');
    expect(stored).toMatchObject({
      status: 'running',
      commandId: 'sim-00000001',
      sentAt: '2026-11-23T10:00:00Z',
    });
    expect(s.queue.jobs).toEqual([{ kind: 'track-run', runId: 'r1' }]);
  });

  it('posts the run message once, in the channel where /run was typed, with the node snapshot', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    await startQueued(s);
    expect(s.runChat.messages).toHaveLength(1);
    expect(s.runChat.messages[0]?.channel).toBe('C0WORK');
    expect(s.runChat.messages[0]?.view.run.nodes?.map((n) => [n.id, n.ping])).toEqual([
      [PI1, 'Online'],
      [PI2, 'Online'],
      [PI3, 'ConnectionLost'],
    ]);
    expect((await s.runs.get('r1'))?.message).toEqual(s.runChat.messages[0]?.ref);
  });

  it('a redelivered start-run job sends nothing more', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    expect(await startQueued(s)).toBe('sent');
    expect(await startRun(s.deps, 'r1')).toBe('skipped');
    expect(await startRun(s.deps, 'r1')).toBe('skipped');
    expect(s.commands.sent).toHaveLength(1);
    expect(s.runChat.messages).toHaveLength(1);
  });

  it('ten workers handling the same job at once send it once', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    s.queue.jobs.splice(0);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => startRun(s.deps, 'r1')));
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(s.commands.sent).toHaveLength(1);
    expect(s.runChat.messages).toHaveLength(1);
  });

  it('every job delivered twice still means one SendCommand and one post per node', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    for (let ran = 0; s.queue.jobs.length > 0 && ran < 50; ran++) {
      const job = s.queue.jobs.shift()!;
      await handleJob(s.deps, job);
      await handleJob(s.deps, job);
    }
    expect(s.commands.sent).toHaveLength(1);
    expect(s.runChat.postedResults().map((r) => r.nodeId)).toEqual([PI1, PI2, PI3]);
    expect((await s.runs.get('r1'))?.status).toBe('finished');
  });

  it('a worker that dies after SendCommand, before storing the command id: the redelivery finds the command', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    const save = s.runs.save.bind(s.runs);
    let crashed = false;
    s.runs.save = async (next: CommandRun, expected: number) => {
      if (next.status === 'running' && !crashed) {
        crashed = true;
        throw new Error('worker killed');
      }
      return save(next, expected);
    };
    await expect(startQueued(s)).rejects.toThrow('worker killed');
    expect((await s.runs.get('r1'))?.status).toBe('sending');

    // Redelivered at once: the claim is fresh, so another worker may still be sending; hands off.
    expect(await startRun(s.deps, 'r1')).toBe('skipped');
    s.clock.advance(SEND_CLAIM_MS + 1_000);
    expect(await startRun(s.deps, 'r1')).toBe('adopted');
    expect(s.commands.sent).toHaveLength(1);
    expect(await s.runs.get('r1')).toMatchObject({ status: 'running', commandId: 'sim-00000001' });
    await drain(s);
    expect(s.commands.sent).toHaveLength(1);
    expect((await s.runs.get('r1'))?.status).toBe('finished');
  });

  it('a worker that dies after claiming, before SendCommand: the run fails as not sent, and is never sent later', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    const send = s.commands.sendCommand.bind(s.commands);
    s.commands.sendCommand = async () => {
      throw new Error('worker killed');
    };
    await expect(startQueued(s)).rejects.toThrow('worker killed');
    s.commands.sendCommand = send;
    s.clock.advance(SEND_CLAIM_MS + 1_000);
    expect(await startRun(s.deps, 'r1')).toBe('send-failed');
    expect(s.commands.sent).toEqual([]);
    expect(await s.runs.get('r1')).toMatchObject({
      status: 'failed',
      failureReason: expect.stringContaining('nothing ran'),
    });
    expect(s.runChat.latestMessage()?.run.status).toBe('failed');
    expect(await startRun(s.deps, 'r1')).toBe('skipped');
    expect(s.commands.sent).toEqual([]);
  });

  it('a lost SendCommand answer (the command did go out) is found by its comment, not sent again', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    const send = s.commands.sendCommand.bind(s.commands);
    s.commands.sendCommand = async (request) => {
      await send(request);
      throw new CommandRunnerError('TimeoutError', 'socket hang up', 'unknown', true);
    };
    expect(await startQueued(s)).toBe('adopted');
    expect(s.commands.sent).toHaveLength(1);
    expect(await s.runs.get('r1')).toMatchObject({ status: 'running', commandId: 'sim-00000001' });
    expect(s.queue.jobs).toEqual([{ kind: 'track-run', runId: 'r1' }]);
  });

  it('a lost SendCommand answer (nothing went out): looks for a while, then fails the run without resending', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    s.commands.sendCommand = async () => {
      throw new CommandRunnerError('InternalServerError', 'oops', 'unknown', true);
    };
    expect(await startQueued(s)).toBe('send-failed');
    expect(s.clock.slept).toEqual([2_000, 5_000, 10_000]);
    expect(await s.runs.get('r1')).toMatchObject({
      status: 'failed',
      failureReason: expect.stringContaining('InternalServerError'),
    });
    expect(s.queue.jobs).toEqual([]);
  });

  it('a throttled send gives the claim back, so the retried job sends it, once', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    s.commands.failNextSend(new CommandRunnerError('ThrottlingException', 'Rate exceeded', 'no', true));
    await expect(startQueued(s)).rejects.toThrow('Rate exceeded');
    expect((await s.runs.get('r1'))?.status).toBe('queued');
    expect(await startRun(s.deps, 'r1')).toBe('sent');
    expect(s.commands.sent).toHaveLength(1);
  });

  it('a send SSM refuses fails the run and says why in the channel', async () => {
    const s = runScenario();
    await run(s, 'prod-raspi disk');
    s.commands.failNextSend(new CommandRunnerError('InvalidDocument', 'no such document', 'no', false));
    expect(await startQueued(s)).toBe('send-failed');
    expect(await s.runs.get('r1')).toMatchObject({
      status: 'failed',
      failureReason: 'SSM refused the command: InvalidDocument: no such document',
    });
    expect(s.runChat.latestMessage()?.run.status).toBe('failed');
    expect(s.queue.jobs).toEqual([]);
  });
});

describe('startRun: nowhere to run', () => {
  it('a target with no nodes says so and sends nothing', async () => {
    const s = runScenario({ fleet: FLEET.filter((n) => n.tags.Fleet !== 'prod-raspi') });
    await run(s, 'prod-raspi disk');
    expect(await startQueued(s)).toBe('nothing-to-run');
    expect(s.commands.sent).toEqual([]);
    expect(await s.runs.get('r1')).toMatchObject({ status: 'finished', end: 'no-nodes', nodes: [] });
    expect(s.runChat.messages).toHaveLength(1);
    expect(s.runChat.messages[0]?.view.run).toMatchObject({ status: 'finished', end: 'no-nodes' });
    expect(s.queue.jobs).toEqual([]);
  });

  it('a target whose nodes are all offline says so instead of waiting for delivery timeouts', async () => {
    const s = runScenario({
      fleet: FLEET.map((n) =>
        n.tags.Fleet === 'prod-raspi' ? { ...n, ping: 'ConnectionLost' as const } : n,
      ),
    });
    await run(s, 'prod-raspi disk');
    expect(await startQueued(s)).toBe('nothing-to-run');
    expect(s.commands.sent).toEqual([]);
    expect(await s.runs.get('r1')).toMatchObject({ status: 'finished', end: 'no-online-nodes' });
    expect(s.runChat.messages[0]?.view.run.end).toBe('no-online-nodes');
  });
});

describe('startRun: snippets that need approval', () => {
  async function requested() {
    const s = runScenario();
    await activeGrant(s, 'U0ALICE');
    await run(s, 'prod-raspi restart-agent', 'U0ALICE');
    expect(await startQueued(s)).toBe('awaiting-approval');
    return s;
  }

  it('posts the card to the approvers and the waiting message where /run was typed; sends nothing', async () => {
    const s = await requested();
    expect(s.commands.sent).toEqual([]);
    expect(s.runChat.cards.map((c) => c.channel)).toEqual(['C0APPROVALS']);
    expect(s.runChat.cards[0]?.view.run.command).toBe('sudo systemctl restart amazon-ssm-agent');
    expect(s.runChat.messages.map((m) => [m.channel, m.view.run.status])).toEqual([
      ['C0WORK', 'awaiting-approval'],
    ]);
    expect(await s.runs.get('r1')).toMatchObject({
      card: s.runChat.cards[0]?.ref,
      message: s.runChat.messages[0]?.ref,
    });
  });

  it('approve → the worker sends it once and redraws card and message', async () => {
    const s = await requested();
    expect(await decideOnRun(s.deps, { runId: 'r1', clicker: 'U0CAROL', action: 'approve' })).toMatchObject({
      outcome: 'approved',
    });
    await drain(s);
    expect(s.commands.sent).toHaveLength(1);
    expect(s.runChat.cards).toHaveLength(1);
    expect(s.runChat.cardUpdates.at(-1)?.view.run.status).toBe('queued');
    expect((await s.runs.get('r1'))?.status).toBe('finished');
    expect(s.runChat.latestMessage()?.run.status).toBe('finished');
  });

  it('looks the nodes up again after approval: the card may be hours old', async () => {
    const s = runScenario();
    await activeGrant(s, 'U0ALICE');
    const home = { accountId: s.config.aws.accountId, region: s.config.aws.region };
    const fleet = s.deps.aws.fleet(home);
    const nodesTagged = fleet.nodesTagged.bind(fleet);
    let lookups = 0;
    const changing = {
      ...fleet,
      nodesTagged: async (tags: Readonly<Record<string, string>>) => {
        const nodes = await nodesTagged(tags);
        // Every node is offline when the card is posted, and back by the time someone approves.
        return lookups++ === 0 ? nodes.map((n) => ({ ...n, ping: 'ConnectionLost' as const })) : nodes;
      },
    };
    s.deps.aws = { ...s.deps.aws, fleet: () => changing };
    await run(s, 'prod-raspi restart-agent', 'U0ALICE');
    await drain(s);
    expect(s.runChat.cards[0]?.view.run.nodes?.every((n) => n.ping === 'ConnectionLost')).toBe(true);
    await decideOnRun(s.deps, { runId: 'r1', clicker: 'U0CAROL', action: 'approve' });
    await drain(s);
    expect(lookups).toBe(2);
    expect(s.commands.sent).toHaveLength(1);
    expect((await s.runs.get('r1'))?.end).toBe('completed');
  });

  it('deny → nothing is ever sent; card and message say denied', async () => {
    const s = await requested();
    await decideOnRun(s.deps, { runId: 'r1', clicker: 'U0CAROL', action: 'deny' });
    await drain(s);
    expect(await startRun(s.deps, 'r1')).toBe('skipped');
    expect(s.commands.sent).toEqual([]);
    expect(s.runChat.cardUpdates.at(-1)?.view.run).toMatchObject({ status: 'denied', decidedBy: 'U0CAROL' });
    expect(s.runChat.latestMessage()?.run.status).toBe('denied');
  });

  it('a run whose target left the configuration fails instead of being sent', async () => {
    const s = await requested();
    const { 'prod-raspi': _gone, ...rest } = s.config.targets;
    s.deps.config = { ...s.config, targets: rest };
    expect(await startRun(s.deps, 'r1')).toBe('send-failed');
    expect(await s.runs.get('r1')).toMatchObject({ status: 'failed' });
    expect(s.commands.sent).toEqual([]);
  });
});
