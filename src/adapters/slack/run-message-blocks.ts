import type { KnownBlock } from '@slack/types';
import type { CommandRun } from '../../domain/command-run';
import type { ServedPlaces } from '../../domain/place';
import type { Target } from '../../domain/target';
import type { RunMessageView } from '../../ports/run-chat';
import { context, escapeMrkdwn, mention, type SlackMessage, section, truncate } from './block-kit';
import { inPlace, tagList } from './grant-phrases';
import {
  code,
  codeBlock,
  MAX_COMMAND_SHOWN,
  MAX_REASON,
  nodeCount,
  simulatedLabel,
  summaryLine,
} from './run-phrases';

/*
 * The run's own message, in the channel where `/run` was typed: what runs where, its progress, its
 * summary. Slack rejects a whole message over its limits (FACTS.md "Slack"), so it has a fixed,
 * small number of blocks and the command is cut to MAX_COMMAND_SHOWN.
 */

/** "Running `disk` on prod-raspi — 7 nodes (3 offline) — requested by @alice" and how it goes. */
function headline(run: CommandRun, target: Target, served: ServedPlaces | undefined): string {
  const what = `${code(run.snippet)} on ${escapeMrkdwn(target.name)}${inPlace(served, run)}${simulatedLabel(run)}`;
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

/**
 * The run's message in the channel where `/run` was typed; node results go in its thread. `served`
 * names the run's account and region when Keyturn serves more than one place.
 */
export function runMessage(view: RunMessageView, served?: ServedPlaces): SlackMessage {
  const { run, target, progress } = view;
  const head = headline(run, target, served);
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
