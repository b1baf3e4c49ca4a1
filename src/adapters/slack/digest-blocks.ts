import type { KnownBlock, SectionBlock } from '@slack/types';
import {
  type DigestRun,
  type DigestSession,
  type DigestView,
  dayLabel,
  type PlaceTotals,
  formatElapsed,
  REQUEST_OUTCOMES,
  RUN_OUTCOME_WORDS,
  RUN_OUTCOMES,
} from '../../domain/digest';
import {
  at,
  code,
  context,
  escapeMrkdwn,
  header,
  MAX_BLOCKS,
  MAX_SECTION_TEXT,
  mention,
  plural,
  redactSecrets,
  section,
  slackDate,
  type SlackMessage,
  truncate,
} from './block-kit';

/**
 * Items named per list. The digest has a fixed set of sections (at most 11 blocks, far under
 * MAX_BLOCKS) and each list is cut to this many items and to one section's 3,000 characters, with
 * "…and N more", so 10,000 sessions or 500 anomalies still fit one message (FACTS.md "Slack").
 */
export const DIGEST_LIST_CAP = 10;
/** One list item: an ARN or a node name can be long; a line this long already says what it is. */
const MAX_ITEM_TEXT = 400;
/** An SDK error can quote a whole request; its first 300 characters say what went wrong. */
const MAX_ERROR_TEXT = 300;

/**
 * `head`, then up to `cap` bullet lines, then "…and N more" for the rest, all within one section's
 * 3,000 characters: a cut list still says how much it left out.
 */
export function listSection(
  head: string,
  items: readonly string[],
  cap: number = DIGEST_LIST_CAP,
): SectionBlock {
  const more = (n: number) => `…and ${n} more`;
  const lines = [head];
  let used = head.length;
  for (const item of items) {
    const shown = lines.length - 1;
    const line = `• ${truncate(item, MAX_ITEM_TEXT)}`;
    const reserve = shown + 1 < items.length ? more(items.length - shown - 1).length + 1 : 0;
    if (shown === cap || used + 1 + line.length + reserve > MAX_SECTION_TEXT) break;
    lines.push(line);
    used += 1 + line.length;
  }
  const shown = lines.length - 1;
  if (shown < items.length) lines.push(more(items.length - shown));
  return section(lines.join('\n'));
}

function who(s: { person?: string; owner?: string }): string {
  if (s.person !== undefined) return mention(s.person);
  return s.owner === undefined ? 'someone unknown' : code(s.owner);
}

function node(s: DigestSession): string {
  if (s.nodeId === undefined) return 'an unknown node';
  return s.nodeName === undefined ? code(s.nodeId) : `${escapeMrkdwn(s.nodeName)} (${code(s.nodeId)})`;
}

function requestBlock(view: DigestView): SectionBlock {
  const { requests, extensions } = view;
  const outcomes = REQUEST_OUTCOMES.filter((o) => o !== 'pending')
    .map((o) => `${requests.outcomes[o]} ${o}`)
    .join(', ');
  const pending = requests.outcomes.pending > 0 ? ` · ${requests.outcomes.pending} still pending` : '';
  const lines = [`*Requests:* ${requests.total} — ${outcomes}${pending}`];
  const { decision } = requests;
  if (decision.count > 0)
    lines.push(
      `*Time to decision:* median ${formatElapsed(decision.medianSeconds ?? 0)}, max ${formatElapsed(decision.maxSeconds ?? 0)}`,
    );
  lines.push(
    `*Extensions:* ${extensions.requested} requested, ${extensions.extended} granted, ${extensions.denied} denied`,
  );
  return section(lines.join('\n'));
}

function sessionBlocks(view: DigestView): KnownBlock[] {
  const { sessions } = view;
  const open = sessions.open > 0 ? ` (${sessions.open} still open)` : '';
  const lines = [
    `*Sessions:* ${sessions.count}, ${plural(Math.round(sessions.seconds / 60), 'minute', 'minutes')} in total${open}`,
  ];
  const { longest } = sessions;
  if (longest)
    lines.push(
      `*Longest:* ${who(longest)}, ${formatElapsed(longest.seconds)} on ${node(longest)}${at(longest.startedAt)}`,
    );
  if (sessions.count === 0) return [section(lines.join('\n'))];
  return [
    section(lines.join('\n')),
    listSection(
      '*By person:*',
      sessions.byPerson.map(
        (p) => `${who(p)} — ${plural(p.count, 'session', 'sessions')}, ${formatElapsed(p.seconds)}`,
      ),
    ),
  ];
}

/** `2 requests · 3 sessions (1h 5m) · 1 run`, leaving out what did not happen. */
export function totalsWords(t: PlaceTotals): string {
  const parts = [
    ...(t.requests > 0 ? [plural(t.requests, 'request', 'requests')] : []),
    ...(t.sessions > 0 ? [`${plural(t.sessions, 'session', 'sessions')} (${formatElapsed(t.seconds)})`] : []),
    ...(t.runs > 0 ? [plural(t.runs, 'run', 'runs')] : []),
  ];
  return parts.length === 0 ? 'nothing' : parts.join(' · ');
}

/**
 * Requests, sessions and runs per target (with its account and region when Keyturn serves several),
 * and per account when there is more than one place to tell apart (issue 14).
 */
function totalsBlocks(view: DigestView): SectionBlock[] {
  const { totals } = view;
  const blocks: SectionBlock[] = [];
  if (!totals.onePlace)
    blocks.push(
      listSection(
        '*By account:*',
        totals.byAccount.map((a) => `${escapeMrkdwn(a.label)} — ${totalsWords(a)}`),
      ),
    );
  if (totals.byTarget.length > 0)
    blocks.push(
      listSection(
        '*By target:*',
        totals.byTarget.map((t) => {
          const name = t.target === undefined ? '_no grant_' : escapeMrkdwn(t.target);
          const where = t.where === undefined ? '' : ` in ${escapeMrkdwn(t.where)}`;
          return `${name}${where} — ${totalsWords(t)}`;
        }),
      ),
    );
  return blocks;
}

function runFailure(r: DigestRun): string {
  const what = `${code(r.snippet)} on ${escapeMrkdwn(r.target)} by ${mention(r.requester)}${at(r.at)}`;
  if (r.reason !== undefined) return `${what}: not sent — ${escapeMrkdwn(r.reason)}`;
  const names = r.failedNodes.length > 0 ? ` (${r.failedNodes.map(escapeMrkdwn).join(', ')})` : '';
  return `${what}: failed on ${r.failedCount} of ${plural(r.nodeCount, 'node', 'nodes')}${names}`;
}

function runBlock(view: DigestView): SectionBlock {
  const { runs } = view;
  const outcomes = RUN_OUTCOMES.filter((o) => runs.outcomes[o] > 0)
    .map((o) => `${runs.outcomes[o]} ${RUN_OUTCOME_WORDS[o]}`)
    .join(', ');
  const head = `*Run Command:* ${plural(runs.total, 'run', 'runs')}${outcomes ? ` — ${outcomes}` : ''}`;
  return listSection(head, runs.failures.map(runFailure));
}

function activeBlock(view: DigestView): SectionBlock {
  if (view.activeNow.length === 0) return section('*Active now:* none');
  return listSection(
    `*Active now:* ${view.activeNow.length}`,
    view.activeNow.map(
      (g) =>
        `${code(g.grantId)} ${mention(g.requester)} on ${escapeMrkdwn(g.target)}${g.where === undefined ? '' : ` in ${escapeMrkdwn(g.where)}`}${g.ending ? ' — ending now' : g.expiresAt ? ` until ${slackDate(g.expiresAt)}` : ''}`,
    ),
  );
}

function anomalyBlock(view: DigestView): SectionBlock {
  const { anomalies } = view;
  if (anomalies.total === 0) return section('*Anomalies:* none');
  const items = [
    ...anomalies.unmatchedSessions.map(
      (s) =>
        `Session ${code(s.id)} matched no grant: ${who(s)} on ${node(s)}${s.where === undefined ? '' : ` in ${s.where}`}${at(s.startedAt)}`,
    ),
    ...anomalies.orphanPolicies.map(
      (a) =>
        `Orphan policy removed${at(a.at)}: ${code(a.policyArn)}${a.grantId ? ` (grant ${code(a.grantId)})` : ''}`,
    ),
    ...anomalies.failedRevocations.map((a) =>
      a.kind === 'sessions-not-ended'
        ? `Revoking ${code(a.grantId)} (${mention(a.requester)} on ${escapeMrkdwn(a.target)}) could not end ${plural(a.sessionIds.length, 'session', 'sessions')}${at(a.at)}: ${a.sessionIds
            .slice(0, 5)
            .map((id) => code(id))
            .join(', ')}${a.sessionIds.length > 5 ? ', …' : ''}`
        : `Revoking ${code(a.grantId)} (${mention(a.requester)} on ${escapeMrkdwn(a.target)}) still failing${at(a.at)}: ${truncate(escapeMrkdwn(redactSecrets(a.error)), MAX_ERROR_TEXT)}`,
    ),
  ];
  return listSection(`*Anomalies:* ${anomalies.total}`, items);
}

/**
 * A bound of the digest's day in the digest's own zone, not as a Slack date token: a token shows
 * each reader's zone, and Tokyo's midnight read in UTC ("yesterday at 15:00") hides which day it is.
 */
function dayBounds(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).format(new Date(iso));
}

/** The daily digest for the audit channel. An empty day is one short line. */
export function digestMessage(view: DigestView): SlackMessage {
  const label = dayLabel(view.day.date);
  if (view.empty) {
    const text = `Keyturn digest for ${label} (${view.day.timeZone}): no requests, sessions, commands or anomalies, and no grant is active.`;
    return { text: escapeMrkdwn(text), blocks: [section(escapeMrkdwn(text))] };
  }
  const blocks: KnownBlock[] = [
    header(`Keyturn digest — ${label}`),
    context(
      `${escapeMrkdwn(view.day.timeZone)} day: ${dayBounds(view.day.start, view.day.timeZone)} to ${dayBounds(view.day.end, view.day.timeZone)}`,
    ),
    requestBlock(view),
    ...sessionBlocks(view),
    runBlock(view),
    ...totalsBlocks(view),
    activeBlock(view),
    anomalyBlock(view),
  ];
  const text = `Keyturn digest for ${label}: ${plural(view.requests.total, 'request', 'requests')}, ${plural(view.sessions.count, 'session', 'sessions')}, ${plural(view.runs.total, 'run', 'runs')}, ${plural(view.anomalies.total, 'anomaly', 'anomalies')}`;
  // Fixed sections: this can only trip if a section is added without minding the limit.
  if (blocks.length > MAX_BLOCKS)
    throw new Error(`digest has ${blocks.length} blocks; Slack takes ${MAX_BLOCKS}`);
  return { text, blocks };
}
