import { SimulatedRunCommand, simulatedOutput } from '../../../src/adapters/sandbox/simulated-run-command';
import { CommandRunnerError, type SendCommandRequest } from '../../../src/ports/command-runner';
import { ManualClock } from '../../support/fakes';
import { FLEET, PI1, PI2, PI3 } from '../../support/run-scenarios';

const request: SendCommandRequest = {
  documentName: 'AWS-RunShellScript',
  targetTags: { Fleet: 'prod-raspi' },
  commands: ['df -h /'],
  deliveryTimeoutSeconds: 300,
  comment: 'Keyturn run r1 by U0DAVE: disk on prod-raspi',
};

function runner() {
  return new SimulatedRunCommand({ nodes: FLEET, clock: new ManualClock(new Date('2026-11-23T10:00:00Z')) });
}

describe('SimulatedRunCommand', () => {
  it('runs on the nodes carrying every tag: online ones succeed with labelled output, offline ones are undeliverable', async () => {
    const sim = runner();
    const { commandId } = await sim.sendCommand(request);
    const progress = await sim.progress(commandId);
    expect({
      ...progress,
      invocations: progress.invocations.map(({ result: _, ...status }) => status),
    }).toEqual({
      done: true,
      targetCount: 3,
      invocations: [
        { nodeId: PI1, nodeName: 'raspi-line-1', status: 'Success' },
        { nodeId: PI2, nodeName: 'raspi-line-2', status: 'Success' },
        { nodeId: PI3, nodeName: 'raspi-line-3', status: 'Failed', statusDetails: 'Undeliverable' },
      ],
      // As SSM lists it: the run's own comment, which tracking checks against the run.
      comment: request.comment,
    });
    // As SSM's detailed listing, each ended node comes with the result GetCommandInvocation gives.
    for (const inv of progress.invocations)
      expect(inv.result).toEqual(await sim.result(commandId, inv.nodeId));
    const ok = await sim.result(commandId, PI1);
    expect(ok).toMatchObject({ status: 'Success', exitCode: 0 });
    expect(ok.stdout).toMatch(/^\(simulated\) raspi-line-1 \$ df -h \/\nFilesystem/);
    expect(await sim.result(commandId, PI3)).toMatchObject({ exitCode: -1, stdout: '' });
  });

  it('lists no result for output too long to list (2,500 characters): GetCommandInvocation has it', async () => {
    const sim = runner();
    sim.script(PI1, { stdout: 'x'.repeat(2_500) });
    const { commandId } = await sim.sendCommand(request);
    const [first] = (await sim.progress(commandId)).invocations;
    expect(first?.result).toBeUndefined();
    expect((await sim.result(commandId, PI1)).stdout).toHaveLength(2_500);
  });

  it('is deterministic per node and command', () => {
    expect(simulatedOutput({ id: PI1, name: 'a' }, 'df -h /')).toBe(
      simulatedOutput({ id: PI1, name: 'a' }, 'df -h /'),
    );
    expect(simulatedOutput({ id: PI1, name: 'a' }, 'df -h /')).not.toBe(
      simulatedOutput({ id: PI2, name: 'a' }, 'df -h /'),
    );
    expect(simulatedOutput({ id: PI1, name: 'a' }, 'rm -rf /')).toContain('the sandbox runs nothing');
  });

  it('matches every tag, so another fleet is never reached', async () => {
    const sim = runner();
    const { commandId } = await sim.sendCommand({
      ...request,
      targetTags: { Fleet: 'prod-raspi', Env: 'staging' },
    });
    expect((await sim.progress(commandId)).invocations).toEqual([]);
  });

  it('finds a command by its exact comment, sent after a time', async () => {
    const sim = runner();
    const { commandId } = await sim.sendCommand(request);
    expect(await sim.findCommand(request.comment, '2026-11-23T09:59:00.000Z')).toBe(commandId);
    expect(await sim.findCommand(`${request.comment}!`, '2026-11-23T09:59:00.000Z')).toBeUndefined();
    expect(await sim.findCommand(request.comment, '2026-11-23T10:00:01.000Z')).toBeUndefined();
  });

  it('answers scripted results, pending polls and send failures', async () => {
    const sim = runner();
    sim.script(PI1, { status: 'Failed', exitCode: 3, stderr: 'boom', pendingPolls: 1 });
    sim.failNextSend(new CommandRunnerError('ThrottlingException', 'slow down', 'no', true));
    await expect(sim.sendCommand(request)).rejects.toThrow('slow down');
    expect(sim.sent).toEqual([]);
    const { commandId } = await sim.sendCommand(request);
    expect((await sim.progress(commandId)).done).toBe(false);
    expect((await sim.progress(commandId)).done).toBe(true);
    expect(await sim.result(commandId, PI1)).toMatchObject({ status: 'Failed', exitCode: 3, stderr: 'boom' });
    await expect(
      sim.sendCommand({ ...request, documentName: 'AWS-RunPowerShellScript' as never }),
    ).rejects.toMatchObject({
      code: 'InvalidDocument',
    });
  });
});
