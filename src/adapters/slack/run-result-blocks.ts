import type { KnownBlock } from '@slack/types';
import {
  type CommandRun,
  countOutcomes,
  type NodeResult,
  SSM_STDERR_LIMIT,
  SSM_STDOUT_LIMIT,
} from '../../domain/command-run';
import type { RunResultsView } from '../../ports/run-chat';
import { context, escapeMrkdwn, type SlackMessage, section, truncate } from './block-kit';
import { code, MAX_NODE_NAME, OUTCOME_ICONS, OUTCOME_WORDS, plural, summaryLine } from './run-phrases';

/*
 * Node results as thread replies under the run's message: one node per reply (3 sections at most),
 * or up to 10 nodes (`batched`, one section each). Slack rejects a whole message over its limits
 * (FACTS.md "Slack": 50 blocks, 3,000 characters per section), so output is cut to a budget per
 * section, with "… N more characters" and where the full output is. Runs on more than 20 nodes are
 * grouped instead (run-group-blocks.ts).
 */

/** Output characters shown per stream when a message carries one node. */
export const SINGLE_STDOUT_CHARS = 2_600;
export const SINGLE_STDERR_CHARS = 2_600;
/** … and per node when a message carries up to 10 (each node one section under 3,000 characters). */
export const BATCHED_STDOUT_CHARS = 1_100;
export const BATCHED_STDERR_CHARS = 500;
/** S3 URLs and log stream names can be long; a pointer longer than this is cut. */
const MAX_LOCATION = 400;

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
export function stream(
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

export function nodeHeader(run: CommandRun, result: NodeResult): string {
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
