import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import {
  type CommandRun,
  countOutcomes,
  type NodeOutcome,
  type NodeResult,
  SSM_STDERR_LIMIT,
  SSM_STDOUT_LIMIT,
} from '../../domain/command-run';
import { countOnline, type ManagedNode } from '../../domain/node';
import type { Target } from '../../domain/target';
import type { ResultGroup } from '../../domain/result-groups';
import type { RunApprovalView, RunGroupsView, RunMessageView, RunResultsView } from '../../ports/run-chat';
import { ACTION_RUN_APPROVE, ACTION_RUN_DENY } from './action-ids';
import {
  escapeMrkdwn,
  MAX_BLOCKS,
  MAX_SECTION_TEXT,
  mention,
  NODE_LIST_CAP,
  type SlackMessage,
  truncate,
  context,
  section,
} from './block-kit';

/*
 * Block Kit for Run Command. Slack rejects a whole message over its limits (FACTS.md "Slack": 50
 * blocks, 3,000 characters per section), so every builder here emits a fixed, small number of
 * blocks, and output is cut to a budget computed per section, with "… N more characters" and where
 * the full output is. Node results go one node per message (3 sections at most), or, on runs with
 * more than 20 nodes, grouped by identical result once the run finishes: up to 10 groups per message
 * (4 blocks each at most), at most 10 messages (domain/result-groups.ts).
 */

/** Output characters shown per stream when a message carries one node. */
export const SINGLE_STDOUT_CHARS = 2_600;
export const SINGLE_STDERR_CHARS = 2_600;
/** … and per node when a message carries up to 10 (each node one section under 3,000 characters). */
export const BATCHED_STDOUT_CHARS = 1_100;
export const BATCHED_STDERR_CHARS = 500;
/** S3 URLs and log stream names can be long; a pointer longer than this is cut. */
const MAX_LOCATION = 400;
const MAX_COMMAND_SHOWN = 2_500;
const MAX_NODE_NAME = 80;
const MAX_REASON = 1_000;

const OUTCOME_WORDS: Record<NodeOutcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  'timed-out': 'timed out (execution timeout)',
  'delivery-timed-out': 'not delivered (delivery timed out: node offline?)',
  undeliverable: 'undeliverable (SSM could not reach the node)',
  cancelled: 'cancelled',
  'no-result': 'no result from SSM before the deadline',
};

const OUTCOME_ICONS: Record<NodeOutcome, string> = {
  succeeded: ':white_check_mark:',
  failed: ':x:',
  'timed-out': ':stopwatch:',
  'delivery-timed-out': ':mailbox_with_no_mail:',
  undeliverable: ':no_entry_sign:',
  cancelled: ':black_square_for_stop:',
  'no-result': ':grey_question:',
};

/** The summary's categories (issue 4): delivery timeouts count as undeliverable, both never ran. */
const SUMMARY: { label: string; outcomes: NodeOutcome[] }[] = [
  { label: 'succeeded', outcomes: ['succeeded'] },
  { label: 'failed', outcomes: ['failed'] },
  { label: 'timed out', outcomes: ['timed-out'] },
  { label: 'undeliverable', outcomes: ['undeliverable', 'delivery-timed-out'] },
  { label: 'cancelled', outcomes: ['cancelled'] },
  { label: 'no result', outcomes: ['no-result'] },
];

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Inline code for names Keyturn controls (snippets, targets, ids): lower case, digits and dashes. */
function code(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "'"))}\``;
}

/** A shell command in a code block; a ``` inside would end the block early, so it is broken up. */
function codeBlock(text: string, max: number): string {
  return `\`\`\`${escapeMrkdwn(truncate(text, max)).replace(/```/g, '``\u200b`')}\`\`\``;
}

function simulatedLabel(run: CommandRun): string {
  return run.simulated ? ' (simulated)' : '';
}

function nodeCount(nodes: readonly ManagedNode[] | undefined): string {
  if (nodes === undefined) return 'nodes not looked up yet';
  const { total, offline } = countOnline(nodes);
  return `${plural(total, 'node', 'nodes')} (${offline} offline)`;
}

export function summaryLine(counts: Partial<Record<NodeOutcome, number>>): string {
  const parts = SUMMARY.map(({ label, outcomes }) => ({
    label,
    n: outcomes.reduce((sum, o) => sum + (counts[o] ?? 0), 0),
  }))
    .filter(({ n, label }) => n > 0 || label === 'succeeded')
    .map(({ n, label }) => `${n.toLocaleString('en-US')} ${label}`);
  return parts.join(' · ');
}

/** "Running `disk` on prod-raspi — 7 nodes (3 offline) — requested by @alice" and how it goes. */
function headline(run: CommandRun, target: Target): string {
  const what = `${code(run.snippet)} on ${escapeMrkdwn(target.name)}${simulatedLabel(run)}`;
  const who = `requested by ${mention(run.requester)}`;
  switch (run.status) {
    case 'awaiting-approval':
      return `:hourglass_flowing_sand: Waiting for approval: ${what} — ${nodeCount(run.nodes)} — ${who}`;
    case 'queued':
    case 'sending':
    case 'running':
      return `Running ${what} — ${nodeCount(run.nodes)} — ${who}`;
    case 'finished':
      if (run.end === 'no-nodes')
        return `:warning: ${what} did not run: no node carries the tags ${tagList(target)} — ${who}. Nothing was sent.`;
      if (run.end === 'no-online-nodes')
        return `:warning: ${what} did not run: none of its ${nodeCount(run.nodes)} is online — ${who}. Nothing was sent.`;
      return `Finished ${what} — ${nodeCount(run.nodes)} — ${who}`;
    case 'denied':
      return `:no_entry: ${what} was denied by ${mention(run.decidedBy ?? 'keyturn')} — ${who}. Nothing ran.`;
    case 'failed':
      return `:x: ${what} could not be run — ${who}: ${truncate(escapeMrkdwn(run.failureReason ?? 'unknown error'), MAX_REASON)}.`;
  }
}

function tagList(target: Target): string {
  return Object.entries(target.tags)
    .map(([k, v]) => `${escapeMrkdwn(k)}=${escapeMrkdwn(v)}`)
    .join(' and ');
}

/** The run's message in the channel where `/run` was typed; node results go in its thread. */
export function runMessage(view: RunMessageView): SlackMessage {
  const { run, target, progress } = view;
  const head = headline(run, target);
  const blocks: KnownBlock[] = [section(head), section(codeBlock(run.command, MAX_COMMAND_SHOWN))];
  const total = run.nodes?.length;
  if (run.status === 'finished' && run.end === 'completed') {
    const counts = run.counts ?? {};
    const ran = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
    blocks.push(
      section(
        ran === 0
          ? '*Summary:* SSM found no node with the tags when it ran the command.'
          : `*Summary:* ${summaryLine(counts)}`,
      ),
    );
  } else if (progress !== undefined && (run.status === 'running' || run.status === 'sending')) {
    const of = total === undefined ? '' : ` of ${total.toLocaleString('en-US')}`;
    blocks.push(
      context(
        `${progress.finished.toLocaleString('en-US')}${of} finished${progress.counts ? `: ${summaryLine(progress.counts)}` : ''}`,
      ),
    );
  }
  blocks.push(context(footer(run)));
  return { text: head, blocks };
}

function footer(run: CommandRun): string {
  const parts = [`Run ${code(run.id)}`];
  if (run.commandId) parts.push(`SSM command ${code(run.commandId)}`);
  if (run.status === 'awaiting-approval')
    parts.push('the approvers of the target decide on the card Keyturn posted for them');
  if (run.status === 'running' || (run.status === 'finished' && run.end === 'completed'))
    parts.push('results per node in the thread');
  if (run.simulated) parts.push('simulated: the sandbox runs nothing on any machine');
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------------------
// Node results

/** How much of `raw` fits `budget` characters once escaped for mrkdwn; a surrogate pair is never split. */
export function fitOutput(raw: string, budget: number): { text: string; shownChars: number } {
  let used = 0;
  let i = 0;
  while (i < raw.length) {
    const c = raw.charCodeAt(i);
    const width = c >= 0xd800 && c <= 0xdbff && i + 1 < raw.length ? 2 : 1;
    const ch = raw[i] as string;
    // & < > become &amp; &lt; &gt;; a backtick may need a zero-width space to keep ``` from closing the block.
    const cost = ch === '&' ? 5 : ch === '<' || ch === '>' ? 4 : ch === '`' ? 2 : width;
    if (used + cost > budget) break;
    used += cost;
    i += width;
  }
  const shown = raw.slice(0, i);
  return { text: escapeMrkdwn(shown).replace(/```/g, '``\u200b`'), shownChars: shown.length };
}

function location(where: string | undefined): string {
  if (where === undefined) return '';
  if (/^https:\/\/[^\s<>|]+$/.test(where) && where.length <= MAX_LOCATION)
    return ` — full output: <${where}|${where.includes('.s3.') || where.includes('s3.amazonaws') ? 'S3' : 'link'}>`;
  return ` — full output: ${escapeMrkdwn(truncate(where, MAX_LOCATION))}`;
}

/** One stream as mrkdwn: a code block cut to `budget`, and what was left out and where it is. */
function stream(
  label: 'stdout' | 'stderr',
  raw: string,
  totalChars: number,
  where: string | undefined,
  budget: number,
): string | undefined {
  // The final newline most commands print is not output worth a line; only when `raw` is the whole output.
  const trimmed = raw.length === totalChars ? raw.replace(/\n$/, '') : raw;
  if (trimmed === '' && totalChars <= raw.length) return undefined;
  const { text, shownChars } = fitOutput(trimmed, budget);
  const more = Math.max(0, totalChars - shownChars - (raw.length - trimmed.length));
  const limit = label === 'stdout' ? SSM_STDOUT_LIMIT : SSM_STDERR_LIMIT;
  const cut =
    more > 0
      ? `\n_… ${plural(more, 'more character', 'more characters')}${totalChars >= limit ? ` (SSM returns at most the first ${limit.toLocaleString('en-US')})` : ''}${location(where)}_`
      : where !== undefined
        ? `\n_${location(where).replace(/^ — /, '')}_`
        : '';
  return `*${label}*\n\`\`\`${text === '' ? ' ' : text}\`\`\`${cut}`;
}

function duration(result: NodeResult): string | undefined {
  if (!result.startedAt || !result.endedAt) return undefined;
  const ms = Date.parse(result.endedAt) - Date.parse(result.startedAt);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function nodeLabel(result: NodeResult): string {
  const id = code(result.nodeId);
  return result.nodeName ? `*${escapeMrkdwn(truncate(result.nodeName, MAX_NODE_NAME))}* ${id}` : id;
}

function nodeHeader(run: CommandRun, result: NodeResult): string {
  const parts = [OUTCOME_WORDS[result.outcome]];
  if (result.exitCode !== undefined)
    parts.push(result.exitCode === -1 ? 'never ran' : `exit ${result.exitCode}`);
  const took = duration(result);
  if (took) parts.push(took);
  if (result.statusDetails && result.outcome === 'cancelled')
    parts.push(`SSM: ${escapeMrkdwn(result.statusDetails)}`);
  return `${OUTCOME_ICONS[result.outcome]} ${run.simulated ? '(simulated) ' : ''}${nodeLabel(result)} — ${parts.join(' · ')}`;
}

/** A thread reply with one node's result, or up to 10 nodes' results (`batched`). */
export function runResultsMessage(view: RunResultsView): SlackMessage {
  const { run, results, batched } = view;
  const blocks: KnownBlock[] = [];
  for (const result of results) {
    const header = nodeHeader(run, result);
    const out = batched ? BATCHED_STDOUT_CHARS : SINGLE_STDOUT_CHARS;
    const err = batched ? BATCHED_STDERR_CHARS : SINGLE_STDERR_CHARS;
    const stdout = stream('stdout', result.stdout, result.stdoutChars, result.stdoutLocation, out);
    const stderr = stream('stderr', result.stderr, result.stderrChars, result.stderrLocation, err);
    if (batched) {
      blocks.push(section([header, stdout, stderr].filter((p) => p !== undefined).join('\n')));
    } else {
      blocks.push(section(header));
      if (stdout) blocks.push(section(stdout));
      if (stderr) blocks.push(section(stderr));
      if (!stdout && !stderr) blocks.push(context('no output'));
    }
  }
  const first = results[0];
  const text =
    results.length === 1 && first
      ? `${escapeMrkdwn(truncate(first.nodeName ?? first.nodeId, MAX_NODE_NAME))}: ${OUTCOME_WORDS[first.outcome]}${run.simulated ? ' (simulated)' : ''}`
      : `${plural(results.length, 'node', 'nodes')}: ${summaryLine(countOutcomes(results))}${run.simulated ? ' (simulated)' : ''}`;
  return { text, blocks };
}

// ---------------------------------------------------------------------------------------------------------
// Grouped results (runs on more than 20 nodes)

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
  const stdout = stream(
    'stdout',
    result.stdout,
    result.stdoutChars,
    single ? result.stdoutLocation : undefined,
    out,
  );
  const stderr = stream(
    'stderr',
    result.stderr,
    result.stderrChars,
    single ? result.stderrLocation : undefined,
    err,
  );
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

/** Slack refuses a whole message over its limits; the builders stay inside them by construction, and this says so. */
export function withinSlackLimits(message: SlackMessage): boolean {
  return (
    message.blocks.length <= MAX_BLOCKS &&
    message.text.length <= 40_000 &&
    message.blocks.every((b) => {
      const text = (b as { text?: { text?: string } }).text?.text;
      const elements = (b as { elements?: { text?: string }[] }).elements ?? [];
      return (
        (text ?? '').length <= MAX_SECTION_TEXT &&
        elements.every((e) => (e.text ?? '').length <= MAX_SECTION_TEXT)
      );
    })
  );
}

// ---------------------------------------------------------------------------------------------------------
// Approval card

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

function button(text: string, actionId: string, runId: string, style: 'primary' | 'danger'): Button {
  return { type: 'button', text: { type: 'plain_text', text }, action_id: actionId, value: runId, style };
}

function cardStatus(run: CommandRun, target: Target): KnownBlock[] {
  const approvedBy = run.approvals.map((a) => mention(a.by)).join(', ');
  switch (run.status) {
    case 'awaiting-approval': {
      const have = run.approvals.length;
      const progress = `*Pending:* ${have} of ${plural(target.approvals, 'approval', 'approvals')}${have > 0 ? ` — approved by ${approvedBy}` : ''}`;
      const actions: ActionsBlock = {
        type: 'actions',
        elements: [
          button('Approve', ACTION_RUN_APPROVE, run.id, 'primary'),
          button('Deny', ACTION_RUN_DENY, run.id, 'danger'),
        ],
      };
      return [section(progress), actions];
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

/** The approval card for a snippet with `approval: true`: the exact command, where, on how many nodes. */
export function runApprovalCard(view: RunApprovalView): SlackMessage {
  const { run, target } = view;
  const blocks: KnownBlock[] = [
    section(
      `*Run request ${code(run.id)}${simulatedLabel(run)}* — ${mention(run.requester)} wants to run ${code(run.snippet)} on ${escapeMrkdwn(target.name)}${target.description ? ` (${escapeMrkdwn(target.description)})` : ''}`,
    ),
    section(
      `*Exactly this command, as root via SSM on every node tagged ${tagList(target)}:*\n${codeBlock(run.command, MAX_COMMAND_SHOWN)}`,
    ),
    section(`*Nodes now:* ${nodeSummary(run.nodes)}`),
    ...cardStatus(run, target),
  ];
  const text = `Run request ${escapeMrkdwn(run.id)}: ${escapeMrkdwn(run.snippet)} on ${escapeMrkdwn(target.name)} by ${mention(run.requester)}: ${run.status}`;
  return { text, blocks };
}
