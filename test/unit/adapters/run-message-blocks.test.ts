import { countOutcomes } from '../../../src/domain/command-run';
import { runMessage } from '../../../src/adapters/slack/run-message-blocks';
import {
  target,
  queued,
  running,
  finished,
  succeeded,
  wire,
  golden,
  texts,
} from '../../support/run-messages';

describe('runMessage', () => {
  it('reads "Running `logs` on prod-raspi — 3 nodes (1 offline) — requested by @alice"', () => {
    const message = runMessage({ run: queued, target });
    expect(message.text).toBe('Running `logs` on prod-raspi — 3 nodes (1 offline) — requested by <@U0ALICE>');
    expect(wire(message)).toStrictEqual(golden('run-message-running', message));
  });

  it('shows progress while running', () => {
    const counts = countOutcomes([succeeded]);
    const message = runMessage({ run: running, target, progress: { finished: 1, counts } });
    expect(texts(message)).toContain('1 of 3 finished: 1 succeeded');
  });

  it('ends on the summary', () => {
    const message = runMessage({ run: finished, target });
    expect(message.text).toBe(
      'Finished `logs` on prod-raspi — 3 nodes (1 offline) — requested by <@U0ALICE>',
    );
    expect(texts(message)).toContain('*Summary:* 1 succeeded · 1 failed · 1 undeliverable');
    expect(wire(message)).toStrictEqual(golden('run-message-finished', message));
  });

  it.each([
    ['no-nodes', 'no node carries the tags Fleet=prod-raspi'],
    ['no-online-nodes', 'none of its 3 nodes (1 offline) is online'],
  ] as const)('says why nothing ran when the end is %s', (end, why) => {
    const message = runMessage({ run: { ...queued, status: 'finished', end, counts: {} }, target });
    expect(message.text).toContain(why);
    expect(message.text).toContain('Nothing was sent.');
  });

  it('says who denied, and why a run failed', () => {
    expect(runMessage({ run: { ...queued, status: 'denied', decidedBy: 'U0CAROL' }, target }).text).toContain(
      'was denied by <@U0CAROL>',
    );
    const failedRun = {
      ...queued,
      status: 'failed' as const,
      failureReason: 'SSM refused the command: InvalidTarget <x>',
    };
    expect(runMessage({ run: failedRun, target }).text).toContain(
      'SSM refused the command: InvalidTarget &lt;x&gt;',
    );
  });

  it('labels a simulated run in the headline and the footer', () => {
    const message = runMessage({ run: { ...running, simulated: true }, target });
    expect(message.text).toBe(
      'Running `logs` on prod-raspi (simulated) — 3 nodes (1 offline) — requested by <@U0ALICE>',
    );
    expect(texts(message).at(-1)).toContain('simulated: the sandbox runs nothing on any machine');
  });

  it('shows the exact command in a code block that output cannot close early', () => {
    const tricky = { ...queued, command: "echo '```' <@U0BOB>" };
    expect(texts(runMessage({ run: tricky, target }))[1]).toBe("```echo '``\u200b`' &lt;@U0BOB&gt;```");
  });
});
