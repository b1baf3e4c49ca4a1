import type { DigestSession, DigestView, PlaceTotals } from './digest';
import { dayLabel, formatElapsed, localDateOf, localTimeOf } from './digest-day';
import { type DigestRun, REQUEST_OUTCOMES, RUN_OUTCOME_WORDS, RUN_OUTCOMES } from './digest-outcome';

/** Items per list in the text digest; a terminal is wider than Slack, but 10,000 lines help nobody. */
export const TEXT_LIST_CAP = 25;

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function capped(items: readonly string[], indent = '  '): string[] {
  const lines = items.slice(0, TEXT_LIST_CAP).map((item) => `${indent}${item}`);
  if (items.length > TEXT_LIST_CAP) lines.push(`${indent}… and ${items.length - TEXT_LIST_CAP} more`);
  return lines;
}

/** A time in the digest's zone: HH:MM on the digest's own day, else with its date. */
function when(view: DigestView, iso: string | undefined): string {
  if (iso === undefined) return 'unknown time';
  const date = localDateOf(iso, view.day.timeZone);
  const time = localTimeOf(iso, view.day.timeZone);
  return date === view.day.date ? time : `${date} ${time}`;
}

function who(s: { person?: string; owner?: string }): string {
  return s.person ?? s.owner ?? 'unknown';
}

function runFailure(r: DigestRun): string {
  if (r.reason !== undefined) return `not sent: ${r.reason}`;
  const named = r.failedNodes.length > 0 ? ` (${r.failedNodes.join(', ')})` : '';
  return `failed on ${r.failedCount} of ${plural(r.nodeCount, 'node', 'nodes')}${named}`;
}

/** `2 requests, 3 sessions (1h 5m), 1 run`, leaving out what did not happen. */
function totalsText(t: PlaceTotals): string {
  const parts = [
    ...(t.requests > 0 ? [plural(t.requests, 'request', 'requests')] : []),
    ...(t.sessions > 0 ? [`${plural(t.sessions, 'session', 'sessions')} (${formatElapsed(t.seconds)})`] : []),
    ...(t.runs > 0 ? [plural(t.runs, 'run', 'runs')] : []),
  ];
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}

function node(s: DigestSession): string {
  if (s.nodeId === undefined) return 'an unknown node';
  return s.nodeName === undefined ? s.nodeId : `${s.nodeName} (${s.nodeId})`;
}

/** The digest as plain text, for `npx keyturn digest`: no Slack markup, times in the digest's zone. */
export function digestText(view: DigestView): string {
  const { day } = view;
  const title = `Keyturn digest for ${dayLabel(day.date)} (${day.timeZone})`;
  if (view.empty) return `${title}: no requests, sessions, commands or anomalies, and no grant is active.`;

  const { requests, extensions, sessions, runs, anomalies } = view;
  const lines = [title, `Day: ${day.start} to ${day.end} (UTC)`, ''];
  const outcomes = REQUEST_OUTCOMES.filter((o) => o !== 'pending')
    .map((o) => `${requests.outcomes[o]} ${o}`)
    .join(', ');
  const pending = requests.outcomes.pending > 0 ? ` (${requests.outcomes.pending} still pending)` : '';
  lines.push(`Requests: ${requests.total} — ${outcomes}${pending}`);
  if (requests.decision.count > 0)
    lines.push(
      `Time to decision: median ${formatElapsed(requests.decision.medianSeconds ?? 0)}, max ${formatElapsed(requests.decision.maxSeconds ?? 0)} (${plural(requests.decision.count, 'decision', 'decisions')})`,
    );
  lines.push(
    `Extensions: ${extensions.requested} requested, ${extensions.extended} granted, ${extensions.denied} denied`,
  );

  const open = sessions.open > 0 ? `, ${sessions.open} still open` : '';
  lines.push(
    `Sessions: ${sessions.count}, ${plural(Math.round(sessions.seconds / 60), 'minute', 'minutes')} in total${open}`,
  );
  if (sessions.longest)
    lines.push(
      `  Longest: ${who(sessions.longest)}, ${formatElapsed(sessions.longest.seconds)} on ${node(sessions.longest)} from ${when(view, sessions.longest.startedAt)}`,
    );
  if (sessions.count > 0) {
    lines.push('  By person:');
    lines.push(
      ...capped(
        sessions.byPerson.map((p) => `${who(p)}: ${p.count}, ${formatElapsed(p.seconds)}`),
        '    ',
      ),
    );
  }

  const runOutcomes = RUN_OUTCOMES.filter((o) => runs.outcomes[o] > 0)
    .map((o) => `${runs.outcomes[o]} ${RUN_OUTCOME_WORDS[o]}`)
    .join(', ');
  lines.push(`Run Command: ${plural(runs.total, 'run', 'runs')}${runOutcomes ? ` — ${runOutcomes}` : ''}`);
  lines.push(
    ...capped(
      runs.failures.map(
        (r) => `${r.snippet} on ${r.target} by ${r.requester} at ${when(view, r.at)}: ${runFailure(r)}`,
      ),
    ),
  );

  const { totals } = view;
  if (!totals.onePlace) {
    lines.push('By account:');
    lines.push(...capped(totals.byAccount.map((a) => `${a.label}: ${totalsText(a)}`)));
  }
  if (totals.byTarget.length > 0) {
    lines.push('By target:');
    lines.push(
      ...capped(
        totals.byTarget.map(
          (t) =>
            `${t.target ?? 'no grant'}${t.where === undefined ? '' : ` in ${t.where}`}: ${totalsText(t)}`,
        ),
      ),
    );
  }

  lines.push(`Active now: ${view.activeNow.length}`);
  lines.push(
    ...capped(
      view.activeNow.map(
        (g) =>
          `${g.grantId}: ${g.requester} on ${g.target}${g.where === undefined ? '' : ` in ${g.where}`}${g.ending ? ', ending now' : g.expiresAt ? ` until ${when(view, g.expiresAt)}` : ''}`,
      ),
    ),
  );

  lines.push(`Anomalies: ${anomalies.total}`);
  lines.push(
    ...capped([
      ...anomalies.unmatchedSessions.map(
        (s) =>
          `session ${s.id} matched no grant: ${who(s)} on ${node(s)}${s.where === undefined ? '' : ` in ${s.where}`} at ${when(view, s.startedAt)}`,
      ),
      ...anomalies.orphanPolicies.map(
        (a) =>
          `orphan policy removed at ${when(view, a.at)}: ${a.policyArn}${a.grantId ? ` (grant ${a.grantId})` : ''}`,
      ),
      ...anomalies.failedRevocations.map((a) =>
        a.kind === 'sessions-not-ended'
          ? `revoking grant ${a.grantId} (${a.requester} on ${a.target}) could not end ${plural(a.sessionIds.length, 'session', 'sessions')} at ${when(view, a.at)}: ${a.sessionIds.join(', ')}`
          : `revoking grant ${a.grantId} (${a.requester} on ${a.target}) still failing at ${when(view, a.at)}: ${a.error}`,
      ),
    ]),
  );
  return lines.join('\n');
}
