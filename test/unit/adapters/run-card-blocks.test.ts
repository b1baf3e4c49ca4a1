import type { CommandRun } from '../../../src/domain/command-run';
import { ACTION_RUN_APPROVE, ACTION_RUN_DENY } from '../../../src/adapters/slack/action-ids';
import { runApprovalCard } from '../../../src/adapters/slack/run-card-blocks';
import { runMessage } from '../../../src/adapters/slack/run-message-blocks';
import {
  target,
  queued,
  wire,
  golden,
  texts,
  assertWithinLimits,
  hostile,
  escaped,
  noToken,
} from '../../support/run-messages';

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

// Issue 11 point 9: a grantee can rename a node they control; its name reached `text` unescaped.
describe('a node or target named like a Slack token shows literally, in text as in blocks', () => {
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
