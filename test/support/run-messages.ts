import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownBlock } from '@slack/types';
import { MAX_BLOCKS, MAX_SECTION_TEXT, type SlackMessage } from '../../src/adapters/slack/block-kit';
import type { CommandRun, NodeResult } from '../../src/domain/command-run';
import { prodRaspi } from './fakes';
import { queuedRun } from './stored-records';

/** Runs, node results and helpers the run-message tests share (message, results, groups, card). */

export const target = { ...prodRaspi, runners: ['U0DAVE'] };

export const queued: CommandRun = queuedRun({
  id: 'a1b2c3',
  version: 3,
  requestedAt: '2026-11-23T10:00:00Z',
  nodes: [
    { id: 'mi-0a1b2c3d4e5f60001', name: 'raspi-line-1', ping: 'Online' },
    { id: 'mi-0a1b2c3d4e5f60002', name: 'raspi-line-2', ping: 'Online' },
    { id: 'mi-0a1b2c3d4e5f60003', name: 'raspi-line-3', ping: 'ConnectionLost' },
  ],
  message: { channel: 'C0WORK', ts: '1700000100.000001' },
  comment: 'Keyturn run a1b2c3 by U0ALICE: logs on prod-raspi',
  executionTimeoutSeconds: 120,
});

export const running: CommandRun = {
  ...queued,
  status: 'running',
  version: 5,
  commandId: '0b6f3c1e-1a2b-4c3d-9e8f-001122334455',
  sentAt: '2026-11-23T10:00:02Z',
};

export const finished: CommandRun = {
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

export const succeeded: NodeResult = {
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

export const failed: NodeResult = {
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

export const undeliverable: NodeResult = {
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
export function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/**
 * Golden files under __golden__. To (re)write them after a deliberate change, run the suite once with
 * KEYTURN_WRITE_GOLDEN=1 and review the diff; without it a missing file fails the test.
 */
export function golden(name: string, value: unknown): unknown {
  const file = join(__dirname, '../unit/adapters/__golden__', `${name}.json`);
  if (process.env.KEYTURN_WRITE_GOLDEN === '1')
    writeFileSync(file, `${JSON.stringify(wire(value), null, 2)}\n`);
  if (!existsSync(file)) throw new Error(`golden file ${name}.json is missing`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every section's and context's text in a message. */
export function texts(message: SlackMessage): string[] {
  return message.blocks.flatMap((b: KnownBlock) => {
    if (b.type === 'section') return b.text ? [b.text.text] : [];
    if (b.type === 'context') return b.elements.map((e) => ('text' in e ? e.text : ''));
    return [];
  });
}

export function assertWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
  for (const text of texts(message)) expect(text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
  expect(message.text.length).toBeLessThanOrEqual(40_000);
}

/** Issue 11 point 9: a name a grantee controls, shaped like a Slack token, and how it must read. */
export const hostile = '<!channel> <https://evil|click>';
export const escaped = '&lt;!channel&gt; &lt;https://evil|click&gt;';
export const noToken = (m: SlackMessage) => {
  for (const field of [m.text, JSON.stringify(m.blocks)]) {
    expect(field).not.toContain('<!channel>');
    expect(field).not.toContain('<https://evil');
  }
};
