import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownBlock } from '@slack/types';
import { ACTION_RUN_APPROVE, ACTION_RUN_DENY } from '../../../src/adapters/slack/action-ids';
import { MAX_BLOCKS, MAX_SECTION_TEXT, type SlackMessage } from '../../../src/adapters/slack/block-kit';
import {
  BATCHED_STDOUT_CHARS,
  fitOutput,
  GROUPS_PER_MESSAGE,
  MAX_GROUP_MESSAGES,
  nodeNames,
  runApprovalCard,
  runGroupMessages,
  runMessage,
  runResultsMessage,
  SINGLE_STDOUT_CHARS,
  summaryLine,
} from '../../../src/adapters/slack/run-blocks';
import {
  type CommandRun,
  countOutcomes,
  type NodeResult,
  RESULTS_PER_MESSAGE,
} from '../../../src/domain/command-run';
import { groupResults } from '../../../src/domain/result-groups';
import { prodRaspi } from '../../support/fakes';

const target = { ...prodRaspi, runners: ['U0DAVE'] };

const queued: CommandRun = {
  id: 'a1b2c3',
  snippet: 'logs',
  target: 'prod-raspi',
  params: { service: 'ssh', lines: '100' },
  command: "journalctl -u 'ssh' -n '100' --no-pager",
  requester: 'U0ALICE',
  channel: 'C0WORK',
  status: 'queued',
  version: 3,
  requestedAt: '2026-11-23T10:00:00Z',
  needsApproval: false,
  approvals: [],
  nodes: [
    { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
    { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'Online' },
    { id: 'mi-0a1b2c3d4e5f60003', name: 'raspi-line-3', ping: 'ConnectionLost' },
  ],
  message: { channel: 'C0WORK', ts: '1700000100.000001' },
  comment: 'Keyturn run a1b2c3 by U0ALICE: logs on prod-raspi',
  deliveryTimeoutSeconds: 300,
  executionTimeoutSeconds: 120,
  simulated: false,
};

const running: CommandRun = {
  ...queued,
  status: 'running',
  version: 5,
  commandId: '0b6f3c1e-1a2b-4c3d-9e8f-001122334455',
  sentAt: '2026-11-23T10:00:02Z',
};

const finished: CommandRun = {
  ...running,
  status: 'finished',
  version: 6,
  end: 'completed',
  finishedAt: '2026-11-23T10:01:00Z',
  counts: {
    succeeded: 1,
    failed: 1,
    undeliverable: 1,
    'timed-out': 0,
    'delivery-timed-out': 0,
    cancelled: 0,
    'no-result': 0,
  },
};

const succeeded: NodeResult = {
  nodeId: 'mi-0a1b2c3d4e5f60001',
  nodeName: 'raspi-line-1',
  outcome: 'succeeded',
  status: 'Success',
  statusDetails: 'Success',
  exitCode: 0,
  startedAt: '2026-11-23T10:00:03.000Z',
  endedAt: '2026-11-23T10:00:04.250Z',
  stdout: 'Nov 23 10:00:01 raspi sshd[812]: Accepted publickey for pi <from> 10.0.0.5 & more\n',
  stdoutChars: 82,
  stderr: '',
  stderrChars: 0,
};

const failed: NodeResult = {
  nodeId: 'mi-0a1b2c3d4e5f60002',
  nodeName: 'raspi-line-2',
  outcome: 'failed',
  status: 'Failed',
  statusDetails: 'Failed',
  exitCode: 1,
  startedAt: '2026-11-23T10:00:03.000Z',
  endedAt: '2026-11-23T10:02:13.000Z',
  stdout: '',
  stdoutChars: 0,
  stderr: "Failed to add match '_SYSTEMD_UNIT=ssh.service': Invalid argument\n",
  stderrChars: 66,
};

const undeliverable: NodeResult = {
  nodeId: 'mi-0a1b2c3d4e5f60003',
  nodeName: 'raspi-line-3',
  outcome: 'undeliverable',
  status: 'Failed',
  statusDetails: 'Undeliverable',
  exitCode: -1,
  stdout: '',
  stdoutChars: 0,
  stderr: '',
  stderrChars: 0,
};

/** What Slack receives: the JSON the Web API client serializes. */
function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/**
 * Golden files under __golden__. To (re)write them after a deliberate change, run the suite once with
 * KEYTURN_WRITE_GOLDEN=1 and review the diff; without it a missing file fails the test.
 */
function golden(name: string, value: unknown): unknown {
  const file = join(__dirname, '__golden__', `${name}.json`);
  if (process.env.KEYTURN_WRITE_GOLDEN === '1')
    writeFileSync(file, `${JSON.stringify(wire(value), null, 2)}\n`);
  if (!existsSync(file)) throw new Error(`golden file ${name}.json is missing`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every section's and context's text in a message. */
function texts(message: SlackMessage): string[] {
  return message.blocks.flatMap((b: KnownBlock) => {
    if (b.type === 'section') return b.text ? [b.text.text] : [];
    if (b.type === 'context') return b.elements.map((e) => ('text' in e ? e.text : ''));
    return [];
  });
}

function assertWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
  for (const text of texts(message)) expect(text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
  expect(message.text.length).toBeLessThanOrEqual(40_000);
}

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

describe('runResultsMessage', () => {
  it('one node: status, exit code, duration, and output in a code block', () => {
    const message = runResultsMessage({ run: running, results: [succeeded], batched: false });
    expect(wire(message)).toStrictEqual(golden('run-results-single', message));
    expect(texts(message)[0]).toBe(
      ':white_check_mark: *raspi-line-1* `mi-0a1b2c3d4e5f60001` — succeeded · exit 0 · 1.3 s',
    );
  });

  it('a failure shows stderr, an undeliverable node says it never ran', () => {
    expect(texts(runResultsMessage({ run: running, results: [failed], batched: false }))).toEqual([
      ':x: *raspi-line-2* `mi-0a1b2c3d4e5f60002` — failed · exit 1 · 2 min 10 s',
      "*stderr*\n```Failed to add match '_SYSTEMD_UNIT=ssh.service': Invalid argument```",
    ]);
    expect(texts(runResultsMessage({ run: running, results: [undeliverable], batched: false }))).toEqual([
      ':no_entry_sign: *raspi-line-3* `mi-0a1b2c3d4e5f60003` — undeliverable (SSM could not reach the node) · never ran',
      'no output',
    ]);
  });

  it('labels simulated results', () => {
    const message = runResultsMessage({
      run: { ...running, simulated: true },
      results: [succeeded],
      batched: false,
    });
    expect(texts(message)[0]).toContain('(simulated) *raspi-line-1*');
    expect(message.text).toBe('raspi-line-1: succeeded (simulated)');
  });

  it('cuts output over the limit and says how much more there is and where it is', () => {
    const big: NodeResult = {
      ...succeeded,
      stdout: 'y'.repeat(4_000),
      stdoutChars: 24_000,
      stdoutLocation: 'https://keyturn-out.s3.ap-northeast-1.amazonaws.com/run/cmd/mi-1/stdout',
      stderr: 'e'.repeat(4_000),
      stderrChars: 5_000,
    };
    const message = runResultsMessage({ run: running, results: [big], batched: false });
    assertWithinLimits(message);
    const [, stdout, stderr] = texts(message);
    expect(stdout).toContain('y'.repeat(SINGLE_STDOUT_CHARS));
    expect(stdout).not.toContain('y'.repeat(SINGLE_STDOUT_CHARS + 1));
    expect(stdout).toContain(
      '_… 21,400 more characters (SSM returns at most the first 24,000) — full output: <https://keyturn-out.s3.ap-northeast-1.amazonaws.com/run/cmd/mi-1/stdout|S3>_',
    );
    expect(stderr).toContain('_… 2,400 more characters_');
    expect(wire(message)).toStrictEqual(golden('run-results-over-limit', message));
  });

  it('names a CloudWatch location that is not a link as text', () => {
    const cw: NodeResult = {
      ...succeeded,
      stdoutLocation: 'CloudWatch Logs /keyturn/run › cmd/mi-1/aws-runShellScript/stdout',
    };
    expect(texts(runResultsMessage({ run: running, results: [cw], batched: false }))[1]).toContain(
      '_full output: CloudWatch Logs /keyturn/run › cmd/mi-1/aws-runShellScript/stdout_',
    );
  });

  it('batches up to 10 nodes, one section each, inside every limit even at the worst', () => {
    const worst: NodeResult[] = Array.from({ length: RESULTS_PER_MESSAGE }, (_, i) => ({
      ...failed,
      nodeId: `mi-${String(i).padStart(17, '0')}`,
      nodeName: 'n'.repeat(256),
      stdout: '<&>`'.repeat(1_000),
      stdoutChars: 24_000,
      stdoutLocation: `https://keyturn-out.s3.amazonaws.com/${'p'.repeat(1_000)}`,
      stderr: '&'.repeat(4_000),
      stderrChars: 8_000,
      stderrLocation: `CloudWatch Logs ${'/g'.repeat(300)}`,
    }));
    const message = runResultsMessage({ run: running, results: worst, batched: true });
    expect(message.blocks).toHaveLength(RESULTS_PER_MESSAGE);
    assertWithinLimits(message);
    expect(message.text).toBe('10 nodes: 0 succeeded · 10 failed');
  });

  it('a single node at the worst stays inside every limit too', () => {
    const worst: NodeResult = {
      ...failed,
      nodeName: 'n'.repeat(256),
      stdout: '<&>`'.repeat(1_000),
      stdoutChars: 24_000,
      stdoutLocation: `https://x.s3.amazonaws.com/${'p'.repeat(5_000)}`,
      stderr: '>'.repeat(4_000),
      stderrChars: 8_000,
      stderrLocation: 'z'.repeat(5_000),
    };
    assertWithinLimits(runResultsMessage({ run: running, results: [worst], batched: false }));
  });

  it('shows less per node when batched', () => {
    const long: NodeResult = { ...succeeded, stdout: 'y'.repeat(4_000), stdoutChars: 4_000 };
    const [text] = texts(runResultsMessage({ run: running, results: [long], batched: true }));
    expect(text).toContain('y'.repeat(BATCHED_STDOUT_CHARS));
    expect(text).not.toContain('y'.repeat(BATCHED_STDOUT_CHARS + 1));
    expect(text).toContain(`_… ${(4_000 - BATCHED_STDOUT_CHARS).toLocaleString('en-US')} more characters_`);
  });
});

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

describe('fitOutput', () => {
  it('counts the escaped length against the budget and says how many raw characters it showed', () => {
    expect(fitOutput('a<b&c', 100)).toEqual({ text: 'a&lt;b&amp;c', shownChars: 5 });
    expect(fitOutput('a<b&c', 6)).toEqual({ text: 'a&lt;b', shownChars: 3 });
  });

  it('never splits a surrogate pair and never leaves ``` in the text', () => {
    expect(fitOutput('ab😀c', 3)).toEqual({ text: 'ab', shownChars: 2 });
    expect(fitOutput('ab😀c', 4)).toEqual({ text: 'ab😀', shownChars: 4 });
    expect(fitOutput('x```y', 100).text).toBe('x``\u200b`y');
  });
});

describe('runApprovalCard', () => {
  const awaiting: CommandRun = {
    ...queued,
    snippet: 'restart-agent',
    command: 'sudo systemctl restart amazon-ssm-agent',
    params: {},
    status: 'awaiting-approval',
    needsApproval: true,
  };

  it('shows the exact command, the target, the nodes online and offline, and the buttons', () => {
    const card = runApprovalCard({ run: awaiting, target });
    expect(wire(card)).toStrictEqual(golden('run-approval-card-pending', card));
    const json = JSON.stringify(card.blocks);
    expect(json).toContain(ACTION_RUN_APPROVE);
    expect(json).toContain(ACTION_RUN_DENY);
    expect(json).toContain('```sudo systemctl restart amazon-ssm-agent```');
    expect(json).toContain('3 nodes (1 offline)');
  });

  it('drops the buttons once decided', () => {
    const approved = runApprovalCard({
      run: { ...awaiting, status: 'running', approvals: [{ by: 'U0CAROL', at: '2026-11-23T10:01:00Z' }] },
      target,
    });
    expect(JSON.stringify(approved.blocks)).not.toContain(ACTION_RUN_APPROVE);
    expect(texts(approved).at(-1)).toBe('*Approved* by <@U0CAROL> — running in <#C0WORK>');
    const denied = runApprovalCard({ run: { ...awaiting, status: 'denied', decidedBy: 'U0CAROL' }, target });
    expect(texts(denied).at(-1)).toBe('*Denied* by <@U0CAROL> — nothing ran');
  });

  it('lists ten nodes by name and counts the rest', () => {
    const nodes = Array.from({ length: 30 }, (_, i) => ({
      id: `mi-${i}`,
      name: `pi-${i}`,
      ping: 'Online' as const,
    }));
    const card = runApprovalCard({ run: { ...awaiting, nodes }, target });
    expect(JSON.stringify(card.blocks)).toContain('pi-9 …and 20 more');
    assertWithinLimits(card);
  });
});

describe('summaryLine', () => {
  it('counts delivery timeouts with undeliverable nodes, and always says how many succeeded', () => {
    expect(summaryLine({})).toBe('0 succeeded');
    expect(
      summaryLine({
        succeeded: 1200,
        'delivery-timed-out': 2,
        undeliverable: 1,
        'timed-out': 1,
        'no-result': 1,
      }),
    ).toBe('1,200 succeeded · 1 timed out · 3 undeliverable · 1 no result');
  });
});

// Issue 11 point 9: a grantee can rename a node they control; its name reached `text` unescaped.
describe('a node or target named like a Slack token shows literally, in text as in blocks', () => {
  const hostile = '<!channel> <https://evil|click>';
  const escaped = '&lt;!channel&gt; &lt;https://evil|click&gt;';
  const noToken = (m: SlackMessage) => {
    for (const field of [m.text, JSON.stringify(m.blocks)]) {
      expect(field).not.toContain('<!channel>');
      expect(field).not.toContain('<https://evil');
    }
  };

  it.each([
    ['one node', false, [{ ...succeeded, nodeName: hostile }]],
    ['a batch', true, [{ ...succeeded, nodeName: hostile }, failed]],
  ] as const)('in the results of %s', (_name, batched, results) => {
    const m = runResultsMessage({ run: finished, results, batched });
    noToken(m);
    expect(JSON.stringify(m.blocks)).toContain(escaped);
    if (!batched) expect(m.text).toBe(`${escaped}: succeeded`);
  });

  it('in the results of a node without a name, whose id is shown instead', () => {
    const m = runResultsMessage({
      run: finished,
      results: [{ ...succeeded, nodeName: undefined, nodeId: hostile }],
      batched: false,
    });
    noToken(m);
    expect(m.text).toBe(`${escaped}: succeeded`);
  });

  it('in the approval card and the run message', () => {
    const run: CommandRun = {
      ...queued,
      snippet: hostile,
      status: 'awaiting-approval',
      needsApproval: true,
      nodes: [{ id: 'mi-0a1b2c3d4e5f60001', name: hostile, ping: 'Online' }],
    };
    const card = runApprovalCard({ run, target: { ...target, name: hostile } });
    noToken(card);
    expect(card.text).toBe(`Run request a1b2c3: ${escaped} on ${escaped} by <@U0ALICE>: awaiting-approval`);
    noToken(runMessage({ run, target: { ...target, name: hostile } }));
  });
});
