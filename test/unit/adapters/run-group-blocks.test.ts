import type { CommandRun, NodeResult } from '../../../src/domain/command-run';
import { groupResults } from '../../../src/domain/result-groups';
import type { SlackMessage } from '../../../src/adapters/slack/block-kit';
import {
  GROUPS_PER_MESSAGE,
  MAX_GROUP_MESSAGES,
  nodeNames,
  runGroupMessages,
} from '../../../src/adapters/slack/run-group-blocks';
import {
  finished,
  succeeded,
  failed,
  wire,
  golden,
  texts,
  assertWithinLimits,
} from '../../support/run-messages';

describe('runGroupMessages: a finished run on many nodes, grouped by identical result', () => {
  const finishedMany: CommandRun = { ...finished, snippet: 'disk', command: 'df -h /' };
  const dfOutput =
    'Filesystem      Size  Used Avail Use% Mounted on\n/dev/root        29G  7.1G   21G  26% /\n';
  const ok = (i: number): NodeResult => ({
    ...succeeded,
    nodeId: `mi-${String(i).padStart(17, '0')}`,
    nodeName: `raspi-${String(i).padStart(3, '0')}`,
    stdout: dfOutput,
    stdoutChars: dfOutput.length,
  });
  const broken = (i: number): NodeResult => ({
    ...failed,
    nodeId: `mi-${String(i).padStart(17, '0')}`,
    nodeName: `raspi-${String(i).padStart(3, '0')}`,
  });

  it('one group for identical nodes, full output for the ones that differ or fail (golden)', () => {
    const results = [
      ...Array.from({ length: 22 }, (_, i) => ok(i + 1)),
      broken(23),
      broken(24),
      { ...ok(25), stdout: '/dev/root 29G 29G 0 100% /\n', stdoutChars: 27 },
    ];
    const messages = runGroupMessages({ run: finishedMany, groups: groupResults(results) });
    expect(messages).toHaveLength(1);
    expect(wire(messages)).toEqual(golden('run-groups-25-nodes', messages));
    const [first] = messages;
    expect(texts(first as SlackMessage)[0]).toBe(
      ':white_check_mark: *22 nodes*, same output — succeeded · exit 0',
    );
  });

  it('500 identical nodes take one message that names them all', () => {
    const messages = runGroupMessages({
      run: finishedMany,
      groups: groupResults(Array.from({ length: 500 }, (_, i) => ok(i))),
    });
    expect(messages).toHaveLength(1);
    const [first] = messages as [SlackMessage];
    assertWithinLimits(first);
    expect(texts(first)[0]).toContain('*500 nodes*, same output');
    expect(texts(first)[1]).toMatch(/^raspi-000, raspi-001, .* …and \d+ more$/);
    expect(first.text).toBe('Results of 500 nodes: 500 nodes in 1 group');
  });

  it.each([500, 5_000])(
    '%i nodes that all differ, at the worst: a bounded number of messages, each inside every limit',
    (count) => {
      const results = Array.from({ length: count }, (_, i) => ({
        ...broken(i),
        nodeName: `${'n'.repeat(250)}${i}`,
        stdout: `${'<&>`'.repeat(1_000)}${i}`,
        stdoutChars: 24_000,
        stdoutLocation: `https://keyturn-out.s3.amazonaws.com/${'p'.repeat(1_000)}`,
        stderr: '&'.repeat(4_000),
        stderrChars: 8_000,
      }));
      const messages = runGroupMessages({ run: finishedMany, groups: groupResults(results) });
      expect(messages).toHaveLength(MAX_GROUP_MESSAGES);
      for (const message of messages) assertWithinLimits(message);
      const shown = GROUPS_PER_MESSAGE * MAX_GROUP_MESSAGES;
      expect(texts(messages.at(-1) as SlackMessage).at(-1)).toBe(
        `…and ${(count - shown).toLocaleString('en-US')} more nodes with ${(count - shown).toLocaleString('en-US')} other results, not shown here: \`aws ssm list-command-invocations --details --command-id ${finishedMany.commandId}\``,
      );
    },
  );

  it('5,000 identical nodes with long names still fit one message', () => {
    const results = Array.from({ length: 5_000 }, (_, i) => ({
      ...ok(i),
      nodeName: `${'x'.repeat(300)}-${i}`,
    }));
    const messages = runGroupMessages({ run: finishedMany, groups: groupResults(results) });
    expect(messages).toHaveLength(1);
    assertWithinLimits(messages[0] as SlackMessage);
  });

  it('escapes node names wherever they appear', () => {
    const evil = (i: number) => ({ ...ok(i), nodeName: `<!channel> & <@U0BOSS> *${i}*` });
    const messages = runGroupMessages({
      run: finishedMany,
      groups: groupResults([evil(1), evil(2), { ...evil(3), stdout: 'other\n', stdoutChars: 6 }]),
    });
    const all = messages.flatMap((m) => [m.text, ...texts(m)]).join('\n');
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<@U0BOSS>');
    expect(all).toContain('&lt;!channel&gt; &amp; &lt;@U0BOSS&gt; *1*');
  });

  it('names as many nodes as fit, then counts the rest', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => ({ nodeId: `mi-${i}`, nodeName: `node-${i}` }));
    const list = nodeNames(nodes, 60);
    expect(list.length).toBeLessThanOrEqual(60);
    expect(list).toMatch(/^node-0, node-1, .*node-\d+ …and \d+ more$/);
    const shown = list.split(' …and ')[0]?.split(', ').length ?? 0;
    expect(list.endsWith(`…and ${100 - shown} more`)).toBe(true);
    expect(nodeNames(nodes.slice(0, 2), 60)).toBe('node-0, node-1');
  });
});
