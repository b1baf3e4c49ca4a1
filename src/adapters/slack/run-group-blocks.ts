import type { KnownBlock } from '@slack/types';
import type { CommandRun } from '../../domain/command-run';
import type { ResultGroup } from '../../domain/result-groups';
import type { RunGroupsView } from '../../ports/run-chat';
import { context, escapeMrkdwn, MAX_BLOCKS, type SlackMessage, section, truncate } from './block-kit';
import { code, MAX_NODE_NAME, OUTCOME_ICONS, OUTCOME_WORDS, plural } from './run-phrases';
import {
  BATCHED_STDERR_CHARS,
  BATCHED_STDOUT_CHARS,
  nodeHeader,
  SINGLE_STDERR_CHARS,
  SINGLE_STDOUT_CHARS,
  stream,
} from './run-result-blocks';

/*
 * A finished run on more than 20 nodes, grouped by identical result (domain/result-groups.ts): up
 * to 10 groups per thread reply (4 blocks each at most, far inside Slack's 50), at most 10 replies.
 */

/** Groups per thread reply: each at most 4 blocks, so a reply stays far inside Slack's 50. */
export const GROUPS_PER_MESSAGE = 10;
/** Replies per run: past this many, the remaining groups are counted, not shown (5,000 different outputs would bury the thread). */
export const MAX_GROUP_MESSAGES = 10;
/** Up to this many groups, each gets the output budget of a single node's reply. */
const ROOMY_GROUPS = 3;
/** Characters of node names listed per group: all of them when few groups share a reply. */
const ROOMY_NAMES_CHARS = 2_800;
const BATCHED_NAMES_CHARS = 600;

/** "raspi-1, raspi-2, … …and 97 more", within `budget` characters. */
export function nodeNames(nodes: ResultGroup['nodes'], budget: number): string {
  const shown: string[] = [];
  let used = 0;
  for (const [i, node] of nodes.entries()) {
    const name = node.nodeName ? escapeMrkdwn(truncate(node.nodeName, MAX_NODE_NAME)) : code(node.nodeId);
    const rest = nodes.length - i - 1;
    // Room for the separator, and for "…and N more" unless this is the last name.
    const tail = rest > 0 ? ` …and ${rest.toLocaleString('en-US')} more`.length : 0;
    if (used + (shown.length > 0 ? 2 : 0) + name.length + tail > budget) {
      return `${shown.join(', ')} …and ${(nodes.length - i).toLocaleString('en-US')} more`;
    }
    used += (shown.length > 0 ? 2 : 0) + name.length;
    shown.push(name);
  }
  return shown.join(', ');
}

function groupBlocks(run: CommandRun, group: ResultGroup, roomy: boolean): KnownBlock[] {
  const { result, nodes } = group;
  const single = nodes.length === 1;
  const out = roomy ? SINGLE_STDOUT_CHARS : BATCHED_STDOUT_CHARS;
  const err = roomy ? SINGLE_STDERR_CHARS : BATCHED_STDERR_CHARS;
  // A location is one node's: shown only when the group is that node.
  const own = (location: string | undefined) => (single ? location : undefined);
  const stdout = stream('stdout', result.stdout, result.stdoutChars, own(result.stdoutLocation), out);
  const stderr = stream('stderr', result.stderr, result.stderrChars, own(result.stderrLocation), err);
  const blocks: KnownBlock[] = [];
  if (single) {
    blocks.push(section(nodeHeader(run, result)));
  } else {
    const parts = [OUTCOME_WORDS[result.outcome]];
    if (result.exitCode !== undefined)
      parts.push(result.exitCode === -1 ? 'never ran' : `exit ${result.exitCode}`);
    const same = stdout || stderr ? 'same output' : 'same result, no output';
    blocks.push(
      section(
        `${OUTCOME_ICONS[result.outcome]} ${run.simulated ? '(simulated) ' : ''}*${plural(nodes.length, 'node', 'nodes')}*, ${same} — ${parts.join(' · ')}`,
      ),
    );
    blocks.push(context(nodeNames(nodes, roomy ? ROOMY_NAMES_CHARS : BATCHED_NAMES_CHARS)));
  }
  if (stdout) blocks.push(section(stdout));
  if (stderr) blocks.push(section(stderr));
  if (!stdout && !stderr && single) blocks.push(context('no output'));
  return blocks;
}

/**
 * A finished run's results, grouped by identical result, as thread replies: up to 10 groups a reply,
 * at most 10 replies; groups past that are counted and pointed to where SSM keeps them.
 */
export function runGroupMessages(view: RunGroupsView): SlackMessage[] {
  const { run, groups } = view;
  const roomy = groups.length <= ROOMY_GROUPS;
  const shownGroups = groups.slice(0, GROUPS_PER_MESSAGE * MAX_GROUP_MESSAGES);
  const hidden = groups.slice(shownGroups.length);
  const nodeTotal = groups.reduce((n, g) => n + g.nodes.length, 0);
  const messages: SlackMessage[] = [];
  const pages = Math.max(1, Math.ceil(shownGroups.length / GROUPS_PER_MESSAGE));
  for (let page = 0; page < pages; page++) {
    const slice = shownGroups.slice(page * GROUPS_PER_MESSAGE, (page + 1) * GROUPS_PER_MESSAGE);
    const blocks = slice.flatMap((g) => groupBlocks(run, g, roomy));
    const nodesHere = slice.reduce((n, g) => n + g.nodes.length, 0);
    if (page === pages - 1 && hidden.length > 0) {
      const hiddenNodes = hidden.reduce((n, g) => n + g.nodes.length, 0);
      const where = run.commandId
        ? `: \`aws ssm list-command-invocations --details --command-id ${escapeMrkdwn(run.commandId.replace(/`/g, "'"))}\``
        : '';
      blocks.push(
        context(
          `…and ${plural(hiddenNodes, 'more node', 'more nodes')} with ${plural(hidden.length, 'other result', 'other results')}, not shown here${where}`,
        ),
      );
    }
    const counted = page === 0 ? ` of ${plural(nodeTotal, 'node', 'nodes')}` : '';
    const of = pages > 1 ? ` (${page + 1}/${pages})` : '';
    const text = `Results${of}${counted}: ${plural(nodesHere, 'node', 'nodes')} in ${plural(slice.length, 'group', 'groups')}${run.simulated ? ' (simulated)' : ''}`;
    messages.push({ text, blocks: blocks.slice(0, MAX_BLOCKS) });
  }
  return messages;
}
