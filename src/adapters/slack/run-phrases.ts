import type { NodeOutcome } from '../../domain/command-run';
import type { CommandRun } from '../../domain/command-run';
import { countOnline, type ManagedNode } from '../../domain/node';
import { escapeMrkdwn, truncate } from './block-kit';

/*
 * How a run reads wherever it is shown (its message, its results, its approval card): outcomes in
 * words and icons, the summary line, counts, and how commands and names are quoted.
 */

/** The command as shown on the run message and the card, inside one section's 3,000 characters. */
export const MAX_COMMAND_SHOWN = 2_500;
export const MAX_NODE_NAME = 80;
export const MAX_REASON = 1_000;

export const OUTCOME_WORDS: Record<NodeOutcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  'timed-out': 'timed out (execution timeout)',
  'delivery-timed-out': 'not delivered (delivery timed out: node offline?)',
  undeliverable: 'undeliverable (SSM could not reach the node)',
  cancelled: 'cancelled',
  'no-result': 'no result from SSM before the deadline',
};

export const OUTCOME_ICONS: Record<NodeOutcome, string> = {
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

export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Inline code for names Keyturn controls (snippets, targets, ids): lower case, digits and dashes. */
export function code(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "'"))}\``;
}

/** A shell command in a code block; a ``` inside would end the block early, so it is broken up. */
export function codeBlock(text: string, max: number): string {
  return `\`\`\`${escapeMrkdwn(truncate(text, max)).replace(/```/g, '``\u200b`')}\`\`\``;
}

export function simulatedLabel(run: CommandRun): string {
  return run.simulated ? ' (simulated)' : '';
}

export function nodeCount(nodes: readonly ManagedNode[] | undefined): string {
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
