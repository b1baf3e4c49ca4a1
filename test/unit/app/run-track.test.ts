import { recordInvocationEvent } from '../../../src/app/record-invocation-event';
import { startRun } from '../../../src/app/start-run';
import { trackRun } from '../../../src/app/track-run';
import type { SandboxNode } from '../../../src/config/types';
import { STORED_OUTPUT_CHARS } from '../../../src/domain/command-run';
import { drain, FLEET, PI1, PI2, PI3, run, runScenario } from '../../support/run-scenarios';

type Scenario = ReturnType<typeof runScenario>;

/** `/run`, then the start-run job: the command is sent and a track-run job is queued. */
async function sent(s: Scenario, text = 'prod-raspi disk') {
  await run(s, text);
  s.queue.jobs.splice(0);
  expect(await startRun(s.deps, 'r1')).toBe('sent');
  s.queue.jobs.splice(0);
}

const outcomes = (s: Scenario) => s.runChat.postedResults().map((r) => [r.nodeId, r.outcome]);

describe('trackRun: per-node results in the thread, then the summary', () => {
  it('partial failure: each node gets its own result, and the summary counts them', async () => {
    const s = runScenario();
    s.commands.script(PI2, { status: 'Failed', exitCode: 2, stderr: 'df: /: Input/output error\n' });
    await sent(s);
    expect(await trackRun(s.deps, 'r1')).toBe('finished');

    expect(outcomes(s)).toEqual([
      [PI1, 'succeeded'],
      [PI2, 'failed'],
      [PI3, 'undeliverable'],
    ]);
    expect(s.runChat.replies.every((r) => r.thread.ts === s.runChat.messages[0]?.ref.ts)).toBe(true);
    expect(s.runChat.replies.every((r) => r.view.results.length === 1 && !r.view.batched)).toBe(true);
    const failed = s.runChat.postedResults()[1];
    expect(failed).toMatchObject({ exitCode: 2, stderr: 'df: /: Input/output error\n', stderrChars: 26 });

    const stored = await s.runs.get('r1');
    expect(stored).toMatchObject({
      status: 'finished',
      end: 'completed',
      finishedAt: '2026-11-23T10:00:00Z',
      counts: { succeeded: 1, failed: 1, undeliverable: 1, 'timed-out': 0 },
    });
    expect(s.runChat.latestMessage()?.run).toEqual(stored);
    expect((await s.runs.nodeResults('r1')).map((r) => r.nodeId)).toEqual([PI1, PI2, PI3]);
  });

  it('delivery timeout and execution timeout are told apart', async () => {
    const s = runScenario();
    s.commands.script(PI1, { status: 'TimedOut', statusDetails: 'ExecutionTimedOut', exitCode: 124 });
    s.commands.script(PI3, { status: 'TimedOut', statusDetails: 'DeliveryTimedOut', exitCode: -1 });
    await sent(s);
    await trackRun(s.deps, 'r1');
    expect(outcomes(s)).toEqual([
      [PI1, 'timed-out'],
      [PI2, 'succeeded'],
      [PI3, 'delivery-timed-out'],
    ]);
    expect((await s.runs.get('r1'))?.counts).toMatchObject({
      'timed-out': 1,
      'delivery-timed-out': 1,
      succeeded: 1,
    });
  });

  it('polls with backoff while nodes run, posting each as it ends, and the message shows progress', async () => {
    const s = runScenario();
    s.commands.script(PI1, { pendingPolls: 0 });
    s.commands.script(PI2, { pendingPolls: 2 });
    s.commands.script(PI3, { pendingPolls: 4, status: 'Success' });
    await sent(s);
    expect(await trackRun(s.deps, 'r1')).toBe('finished');
    expect(s.clock.slept).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(outcomes(s)).toEqual([
      [PI1, 'succeeded'],
      [PI2, 'succeeded'],
      [PI3, 'succeeded'],
    ]);
    const progress = s.runChat.messageUpdates.map((u) => u.view.progress?.finished);
    expect(progress).toEqual([1, 2, undefined]);
    expect(s.runChat.messageUpdates.at(-1)?.view.run.status).toBe('finished');
  });

  it('hands over to a fresh job when its polling budget runs out', async () => {
    const s = runScenario();
    s.deps.runPolling = { budgetMs: 5_000, firstDelayMs: 1_000, maxDelayMs: 15_000 };
    s.commands.script(PI1, { pendingPolls: 10 });
    await sent(s);
    expect(await trackRun(s.deps, 'r1')).toBe('handed-over');
    expect(s.queue.jobs).toEqual([{ kind: 'track-run', runId: 'r1' }]);
    expect(s.clock.slept).toEqual([1_000, 2_000, 2_000]);
    expect((await s.runs.get('r1'))?.status).toBe('running');
    await drain(s);
    expect((await s.runs.get('r1'))?.status).toBe('finished');
    expect(outcomes(s).map(([id]) => id)).toEqual([PI2, PI3, PI1]);
  });

  it('past the deadline, nodes SSM never finished are reported as having no result', async () => {
    const s = runScenario();
    s.commands.script(PI1, { pendingPolls: Number.POSITIVE_INFINITY });
    await sent(s);
    // deliveryTimeout 300 s + AWS's default executionTimeout 3600 s + 120 s grace: 67 one-minute jobs.
    const jobs: string[] = [];
    for (let i = 0; i < 100 && jobs.at(-1) !== 'finished'; i++) jobs.push(await trackRun(s.deps, 'r1'));
    expect(jobs).toHaveLength(68);
    expect(jobs.slice(0, -1).every((j) => j === 'handed-over')).toBe(true);
    const stored = await s.runs.get('r1');
    expect(stored?.status).toBe('finished');
    expect(stored?.counts).toMatchObject({ 'no-result': 1, succeeded: 1, undeliverable: 1 });
    expect(s.clock.now().toISOString() >= '2026-11-23T11:07:00.000Z').toBe(true);
    expect(outcomes(s).find(([id]) => id === PI1)).toEqual([PI1, 'no-result']);
  });

  it('keeps the length SSM returned while storing only the first characters of huge output', async () => {
    const s = runScenario();
    s.commands.script(PI1, { stdout: 'x'.repeat(24_000), stderr: 'e'.repeat(8_000) });
    await sent(s);
    await trackRun(s.deps, 'r1');
    const [result] = await s.runs.nodeResults('r1');
    expect(result).toMatchObject({ nodeId: PI1, stdoutChars: 24_000, stderrChars: 8_000 });
    expect(result?.stdout).toHaveLength(STORED_OUTPUT_CHARS);
    expect(result?.stderr).toHaveLength(STORED_OUTPUT_CHARS);
  });

  it('a run with no nodes left by the time SSM resolves the tags finishes with nothing to report', async () => {
    const s = runScenario();
    await sent(s);
    // The nodes were deregistered between the snapshot and the send.
    s.commands.script(PI1, {});
    const progress = s.commands.progress.bind(s.commands);
    s.commands.progress = async (id) => ({
      ...(await progress(id)),
      invocations: [],
      targetCount: 0,
      done: true,
    });
    expect(await trackRun(s.deps, 'r1')).toBe('finished');
    expect(s.runChat.replies).toEqual([]);
    expect((await s.runs.get('r1'))?.counts).toMatchObject({ succeeded: 0 });
  });
});

describe('trackRun: many nodes', () => {
  const many: SandboxNode[] = Array.from({ length: 45 }, (_, i) => ({
    id: `mi-${String(i + 1).padStart(17, '0')}`,
    name: `raspi-${i + 1}`,
    tags: { Fleet: 'prod-raspi' },
    ping: 'Online',
  }));

  it('above 20 nodes, posts the results once the run finishes, grouped by identical result, each node once', async () => {
    const s = runScenario({ fleet: many });
    for (const node of many) s.commands.script(node.id, { stdout: 'Filesystem 29G 26% /\n' });
    s.commands.script(many[3]!.id, { status: 'Failed', exitCode: 1, stderr: 'df: /: Input/output error\n' });
    s.commands.script(many[7]!.id, { stdout: 'Filesystem 29G 99% /\n' });
    await sent(s);
    expect(await trackRun(s.deps, 'r1')).toBe('finished');
    expect(s.runChat.replies).toEqual([]);
    expect(s.runChat.groupReplies).toHaveLength(1);
    const groups = s.runChat.groupReplies[0]!.view.groups;
    expect(groups.map((g) => [g.nodes.length, g.result.outcome])).toEqual([
      [43, 'succeeded'],
      [1, 'failed'],
      [1, 'succeeded'],
    ]);
    expect(groups[1]!.nodes).toEqual([{ nodeId: many[3]!.id, nodeName: 'raspi-4' }]);
    expect(groups[2]!.result.stdout).toBe('Filesystem 29G 99% /\n');
    const posted = s.runChat.postedResults().map((r) => r.nodeId);
    expect(new Set(posted).size).toBe(45);
    expect(posted).toHaveLength(45);
    expect(s.runChat.latestMessage()?.run.status).toBe('finished');
  });

  it('above 20 nodes, reads results from the detailed listing: no GetCommandInvocation for short output', async () => {
    const s = runScenario({ fleet: many });
    s.commands.script(many[0]!.id, { stdout: 'x'.repeat(3_000) });
    const result = jest.spyOn(s.commands, 'result');
    await sent(s);
    await trackRun(s.deps, 'r1');
    // Only the node whose output the listing cuts is read again.
    expect(result.mock.calls.map(([, nodeId]) => nodeId)).toEqual([many[0]!.id]);
    expect((await s.runs.nodeResults('r1')).find((r) => r.nodeId === many[0]!.id)?.stdoutChars).toBe(3_000);
  });

  it('above 20 nodes, polls ask SSM for the invocations only once the command is done, and the message counts the finished', async () => {
    const s = runScenario({ fleet: many });
    for (const [i, node] of many.entries()) s.commands.script(node.id, { pendingPolls: i < 20 ? 1 : 3 });
    const progress = jest.spyOn(s.commands, 'progress');
    await sent(s);
    expect(await trackRun(s.deps, 'r1')).toBe('finished');
    expect(progress.mock.calls.every(([, opts]) => opts?.invocations === 'when-done')).toBe(true);
    const shown = s.runChat.messageUpdates.map((u) => u.view.progress);
    expect(shown.at(0)).toEqual({ finished: 20 });
    expect(s.runChat.groupReplies).toHaveLength(1);
  });

  it('grouped results are posted once, whichever path finishes the run', async () => {
    const s = runScenario({ fleet: many });
    await sent(s);
    await Promise.all([trackRun(s.deps, 'r1'), trackRun(s.deps, 'r1')]);
    expect(s.runChat.groupReplies).toHaveLength(1);
  });

  it('posts one node per message at 20 nodes', async () => {
    const s = runScenario({ fleet: many.slice(0, 20) });
    await sent(s);
    await trackRun(s.deps, 'r1');
    expect(s.runChat.replies).toHaveLength(20);
    expect(s.runChat.replies.every((r) => !r.view.batched)).toBe(true);
  });
});

describe('recordInvocationEvent (EventBridge, on Lambda)', () => {
  const event = (commandId: string, nodeId: string, status: string) => ({
    source: 'aws.ssm',
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    detail: {
      'command-id': commandId,
      'instance-id': nodeId,
      status,
      'document-name': 'AWS-RunShellScript',
      'requested-date-time': '2026-11-23T10:00:00.000Z',
    },
  });

  it('records and posts each node as its event arrives, and the last one finishes the run', async () => {
    const s = runScenario();
    await sent(s);
    expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI1, 'Success'))).toBe('recorded');
    expect(outcomes(s)).toEqual([[PI1, 'succeeded']]);
    expect((await s.runs.get('r1'))?.status).toBe('running');
    expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI3, 'Failed'))).toBe('recorded');
    expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI2, 'Success'))).toBe('recorded');
    expect(outcomes(s)).toEqual([
      [PI1, 'succeeded'],
      [PI3, 'undeliverable'],
      [PI2, 'succeeded'],
    ]);
    expect((await s.runs.get('r1'))?.status).toBe('finished');
    expect(s.runChat.latestMessage()?.run.status).toBe('finished');
  });

  it("an event from another account or region than the run's is not the run's: nothing is read or recorded", async () => {
    const s = runScenario();
    await sent(s);
    const own = { account: '123456789012', region: 'ap-northeast-1' };
    for (const elsewhere of [
      { ...own, account: '444455556666' },
      { ...own, region: 'eu-central-1' },
    ])
      expect(
        await recordInvocationEvent(s.deps, { ...event('sim-00000001', PI1, 'Success'), ...elsewhere }),
      ).toBe('not-ours');
    expect(outcomes(s)).toEqual([]);
    expect(await recordInvocationEvent(s.deps, { ...event('sim-00000001', PI1, 'Success'), ...own })).toBe(
      'recorded',
    );
  });

  it('a redelivered event, and the polling fallback after it, never post a node twice', async () => {
    const s = runScenario();
    await sent(s);
    await recordInvocationEvent(s.deps, event('sim-00000001', PI1, 'Success'));
    expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI1, 'Success'))).toBe(
      'already-recorded',
    );
    await trackRun(s.deps, 'r1');
    expect(outcomes(s)).toEqual([
      [PI1, 'succeeded'],
      [PI2, 'succeeded'],
      [PI3, 'undeliverable'],
    ]);
    expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI2, 'Success'))).toBe('not-running');
  });

  it('events and two polling jobs racing each other still post each node once', async () => {
    const s = runScenario();
    await sent(s);
    await Promise.all([
      trackRun(s.deps, 'r1'),
      trackRun(s.deps, 'r1'),
      ...[PI1, PI2, PI3].map((id) => recordInvocationEvent(s.deps, event('sim-00000001', id, 'Success'))),
    ]);
    expect(
      outcomes(s)
        .map(([id]) => id)
        .sort(),
    ).toEqual([PI1, PI2, PI3]);
    expect((await s.runs.get('r1'))?.status).toBe('finished');
  });

  it('ignores commands Keyturn did not send, and statuses that are not final', async () => {
    const s = runScenario();
    await sent(s);
    expect(await recordInvocationEvent(s.deps, event('someone-elses', PI1, 'Success'))).toBe('not-ours');
    expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI1, 'InProgress'))).toBe('in-progress');
    expect(await recordInvocationEvent(s.deps, { detail: {} } as never)).toBe('not-ours');
    expect(s.runChat.replies).toEqual([]);
  });

  it("ignores another document's invocations, even under a Keyturn command id, without reading the table", async () => {
    const s = runScenario();
    await sent(s);
    const reads = jest.spyOn(s.runs, 'findByCommandId');
    const other = event('sim-00000001', PI1, 'Success');
    other.detail['document-name'] = 'AWS-RunPowerShellScript';
    expect(await recordInvocationEvent(s.deps, other)).toBe('not-ours');
    const unnamed = event('sim-00000001', PI1, 'Success') as { detail: Record<string, string> };
    delete unnamed.detail['document-name'];
    expect(await recordInvocationEvent(s.deps, unnamed as never)).toBe('not-ours');
    expect(reads).not.toHaveBeenCalled();
    expect(await s.runs.nodeResults('r1')).toEqual([]);
  });

  it('ignores a status that is not final without reading the table', async () => {
    const s = runScenario();
    await sent(s);
    const reads = jest.spyOn(s.runs, 'findByCommandId');
    for (const status of ['Pending', 'InProgress', 'Delayed', 'Cancelling'])
      expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI1, status))).toBe('in-progress');
    expect(reads).not.toHaveBeenCalled();
  });

  it("answers another tool's AWS-RunShellScript command with one lookup by command id", async () => {
    const s = runScenario();
    await sent(s);
    const reads = jest.spyOn(s.runs, 'findByCommandId');
    const nodeReads = jest.spyOn(s.runs, 'nodeResults');
    expect(await recordInvocationEvent(s.deps, event('someone-elses', PI1, 'Failed'))).toBe('not-ours');
    expect(reads.mock.calls).toEqual([['someone-elses']]);
    expect(nodeReads).not.toHaveBeenCalled();
  });

  it('leaves a node GetCommandInvocation still reports in progress to polling', async () => {
    const s = runScenario();
    s.commands.script(PI1, { pendingPolls: 1 });
    await sent(s);
    expect(await recordInvocationEvent(s.deps, event('sim-00000001', PI1, 'Success'))).toBe('in-progress');
    expect(await s.runs.nodeResults('r1')).toEqual([]);
  });

  it('on a run with many nodes, events record but leave posting to the end, so results are grouped', async () => {
    const fleet: SandboxNode[] = Array.from({ length: 25 }, (_, i) => ({
      id: `mi-${String(i + 1).padStart(17, '0')}`,
      name: `raspi-${i + 1}`,
      tags: { Fleet: 'prod-raspi' },
      ping: 'Online',
    }));
    const s = runScenario({ fleet });
    for (const node of fleet) s.commands.script(node.id, { stdout: 'same\n' });
    await sent(s);
    for (const node of fleet.slice(0, 10))
      await recordInvocationEvent(s.deps, event('sim-00000001', node.id, 'Success'));
    expect(s.runChat.replies).toEqual([]);
    expect(s.runChat.groupReplies).toEqual([]);
    expect(await s.runs.nodeResults('r1')).toHaveLength(10);
    await trackRun(s.deps, 'r1');
    expect(s.runChat.replies).toEqual([]);
    expect(s.runChat.groupReplies.map((r) => r.view.groups.map((g) => g.nodes.length))).toEqual([[25]]);
  });
});

describe('the whole flow on fakes', () => {
  it('the no-nodes message is the only message, and no tracking is queued', async () => {
    const s = runScenario({ fleet: FLEET.filter((n) => n.tags.Fleet !== 'prod-raspi') });
    await run(s, 'prod-raspi disk');
    await drain(s);
    expect(s.runChat.messages).toHaveLength(1);
    expect(s.runChat.replies).toEqual([]);
    expect(s.commands.sent).toEqual([]);
  });
});
