import type { NodeResult } from '../../../src/domain/command-run';
import { groupResults } from '../../../src/domain/result-groups';

const node = (i: number, change: Partial<NodeResult> = {}): NodeResult => ({
  nodeId: `mi-${String(i).padStart(17, '0')}`,
  nodeName: `raspi-${i}`,
  outcome: 'succeeded',
  status: 'Success',
  statusDetails: 'Success',
  exitCode: 0,
  startedAt: `2026-11-23T10:00:0${i % 10}.000Z`,
  endedAt: `2026-11-23T10:00:1${i % 10}.000Z`,
  stdout: '/dev/root 29G 26% /\n',
  stdoutChars: 20,
  stderr: '',
  stderrChars: 0,
  ...change,
});

describe('groupResults', () => {
  it('nodes with identical output and status form one group, whatever their timings and locations', () => {
    const results = [3, 1, 2].map((i) =>
      node(i, { stdoutLocation: `https://keyturn-out.s3.amazonaws.com/run/mi-${i}/stdout` }),
    );
    const groups = groupResults(results);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.nodes.map((n) => n.nodeName)).toEqual(['raspi-1', 'raspi-2', 'raspi-3']);
    expect(groups[0]?.result.nodeId).toBe(node(1).nodeId);
  });

  it('different output, different exit code or a different outcome make separate groups', () => {
    const groups = groupResults([
      node(1),
      node(2),
      node(3, { stdout: '/dev/root 29G 99% /\n' }),
      node(4, { exitCode: 3 }),
      node(5, { outcome: 'failed', status: 'Failed', statusDetails: 'Failed' }),
      node(6, { stderr: 'warning\n', stderrChars: 8 }),
      node(7, { stdout: '/dev/root 29G 26% /\n', stdoutChars: 24_000 }),
    ]);
    expect(groups.map((g) => g.nodes.map((n) => n.nodeName))).toEqual([
      ['raspi-1', 'raspi-2'],
      ['raspi-5'],
      ['raspi-3'],
      ['raspi-4'],
      ['raspi-6'],
      ['raspi-7'],
    ]);
  });

  it('largest group first; among equal sizes, failures before successes', () => {
    const failed = {
      outcome: 'failed' as const,
      status: 'Failed',
      stderr: 'boom\n',
      stderrChars: 5,
      exitCode: 1,
    };
    const groups = groupResults([
      node(1),
      node(2, failed),
      node(3, { outcome: 'undeliverable', status: 'Failed', statusDetails: 'Undeliverable', exitCode: -1 }),
      node(4, failed),
      node(5),
      node(6),
    ]);
    expect(groups.map((g) => [g.result.outcome, g.nodes.length])).toEqual([
      ['succeeded', 3],
      ['failed', 2],
      ['undeliverable', 1],
    ]);
  });

  it('no results, no groups', () => {
    expect(groupResults([])).toEqual([]);
  });
});
