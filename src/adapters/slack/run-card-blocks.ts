import type { KnownBlock } from '@slack/types';
import type { CommandRun } from '../../domain/command-run';
import type { ManagedNode } from '../../domain/node';
import type { ServedPlaces } from '../../domain/place';
import type { Target } from '../../domain/target';
import type { RunApprovalView } from '../../ports/run-chat';
import { ACTION_RUN_APPROVE, ACTION_RUN_DENY } from './action-ids';
import {
  actions,
  button,
  escapeMrkdwn,
  mention,
  NODE_LIST_CAP,
  type SlackMessage,
  section,
  truncate,
} from './block-kit';
import { inPlace, tagList } from './grant-phrases';
import {
  code,
  codeBlock,
  MAX_COMMAND_SHOWN,
  MAX_NODE_NAME,
  MAX_REASON,
  nodeCount,
  plural,
  simulatedLabel,
} from './run-phrases';

/*
 * The approval card for a snippet with `approval: true`, in the target's requests channel: the exact
 * command, where, on how many nodes; updated in place once decided.
 */

function nodeSummary(nodes: readonly ManagedNode[] | undefined): string {
  if (nodes === undefined) return 'not looked up yet';
  const online = nodes.filter((n) => n.ping === 'Online');
  const offline = nodes.filter((n) => n.ping !== 'Online');
  const names = (list: readonly ManagedNode[]) => {
    const shown = list
      .slice(0, NODE_LIST_CAP)
      .map((n) => (n.name ? escapeMrkdwn(truncate(n.name, MAX_NODE_NAME)) : code(n.id)));
    return list.length > NODE_LIST_CAP
      ? `${shown.join(', ')} …and ${list.length - NODE_LIST_CAP} more`
      : shown.join(', ');
  };
  const lines = [`${nodeCount(nodes)}`];
  if (online.length > 0) lines.push(`online: ${names(online)}`);
  if (offline.length > 0) lines.push(`offline (will not run): ${names(offline)}`);
  return lines.join('\n');
}

function cardStatus(run: CommandRun, target: Target): KnownBlock[] {
  const approvedBy = run.approvals.map((a) => mention(a.by)).join(', ');
  switch (run.status) {
    case 'awaiting-approval': {
      const have = run.approvals.length;
      const progress = `*Pending:* ${have} of ${plural(target.approvals, 'approval', 'approvals')}${have > 0 ? ` — approved by ${approvedBy}` : ''}`;
      return [
        section(progress),
        actions(
          button('Approve', ACTION_RUN_APPROVE, run.id, 'primary'),
          button('Deny', ACTION_RUN_DENY, run.id, 'danger'),
        ),
      ];
    }
    case 'denied':
      return [section(`*Denied* by ${mention(run.decidedBy ?? 'keyturn')} — nothing ran`)];
    case 'failed':
      return [
        section(
          `*Approved* by ${approvedBy || mention(run.decidedBy ?? 'keyturn')}, then failed: ${truncate(escapeMrkdwn(run.failureReason ?? 'unknown error'), MAX_REASON)}`,
        ),
      ];
    default:
      return [
        section(
          `*Approved* by ${approvedBy || mention(run.decidedBy ?? 'keyturn')} — running in <#${run.channel}>`,
        ),
      ];
  }
}

/**
 * The approval card for a snippet with `approval: true`: the exact command, where, on how many nodes.
 * `served` names the run's account and region when Keyturn serves more than one place.
 */
export function runApprovalCard(view: RunApprovalView, served?: ServedPlaces): SlackMessage {
  const { run, target } = view;
  const where = inPlace(served, run);
  const blocks: KnownBlock[] = [
    section(
      `*Run request ${code(run.id)}${simulatedLabel(run)}* — ${mention(run.requester)} wants to run ${code(run.snippet)} on ${escapeMrkdwn(target.name)}${where}${target.description ? ` (${escapeMrkdwn(target.description)})` : ''}`,
    ),
    section(
      `*Exactly this command, as root via SSM on every node tagged ${tagList(target)}:*\n${codeBlock(run.command, MAX_COMMAND_SHOWN)}`,
    ),
    section(`*Nodes now:* ${nodeSummary(run.nodes)}`),
    ...cardStatus(run, target),
  ];
  const text = `Run request ${escapeMrkdwn(run.id)}: ${escapeMrkdwn(run.snippet)} on ${escapeMrkdwn(target.name)}${where} by ${mention(run.requester)}: ${run.status}`;
  return { text, blocks };
}
