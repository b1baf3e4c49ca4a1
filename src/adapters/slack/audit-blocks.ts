import type { AuditLine, GrantAuditLine, RunAuditLine } from '../../domain/audit-line';
import { formatDuration } from '../../domain/duration';
import type { ServedPlaces } from '../../domain/place';
import { context, escapeMrkdwn, mention, type SlackMessage, slackDate, truncate } from './block-kit';
import { inPlace } from './grant-phrases';
import { summaryLine } from './run-phrases';

/** Reasons and failures are free text; an audit line stays one glanceable line. */
const MAX_NOTE = 300;

/**
 * One audit-trail line as a single context block: who did what to which grant or run, when, and a
 * link to the thread that holds the rest. `permalink` comes from chat.getPermalink; without one the
 * line names the id only. `served` adds the grant's or run's account and region when Keyturn serves
 * more than one place.
 */
export function auditLineMessage(line: AuditLine, permalink?: string, served?: ServedPlaces): SlackMessage {
  const where = inPlace(served, line);
  const sentence = line.subject === 'grant' ? grantSentence(line, where) : runSentence(line, where);
  const id = line.subject === 'grant' ? `grant ${line.grantId}` : `run ${line.runId}`;
  const link = permalink ? ` · <${permalink}|${escapeMrkdwn(id)} thread>` : ` · ${escapeMrkdwn(id)}`;
  // No time of its own: Slack stamps every message, and the line is posted as the move is recorded.
  return {
    text: plainFallback(`${sentence} (${id})`),
    blocks: [context(`${sentence}${link}`)],
  };
}

function note(text: string | undefined, lead = ': '): string {
  return text ? `${lead}${truncate(escapeMrkdwn(text.replace(/\s+/g, ' ').trim()), MAX_NOTE)}` : '';
}

function target(name: string): string {
  return `*${escapeMrkdwn(name)}*`;
}

function grantSentence(l: GrantAuditLine, where: string): string {
  const req = mention(l.requester);
  const t = `${target(l.target)}${where}`;
  const by = mention(l.by);
  const length = l.minutes !== undefined ? ` for ${formatDuration(l.minutes)}` : '';
  const more = l.minutes !== undefined ? ` by ${formatDuration(l.minutes)}` : '';
  const until = l.until !== undefined ? ` until ${slackDate(l.until)}` : '';
  switch (l.kind) {
    case 'requested':
      return `:inbox_tray: ${req} requested access to ${t}${length}${note(l.note)}`;
    case 'approval-recorded':
      return `:ballot_box_with_check: Approved by ${by}: ${req}'s request for ${t}${note(l.note, ', ')}`;
    case 'approved':
      return `:white_check_mark: Approved by ${by}: ${req}'s request for ${t}${length}`;
    case 'denied':
      return `:no_entry_sign: Denied by ${by}: ${req}'s request for ${t}${note(l.note)}`;
    case 'cancelled':
      return `:heavy_multiplication_x: ${req} cancelled their request for ${t}`;
    case 'lapsed':
      return `:hourglass: ${req}'s request for ${t} lapsed: nobody decided in time`;
    case 'active':
      return `:unlock: ${req}'s access to ${t} is active${until}`;
    case 'failed':
      return l.wasActive
        ? `:x: ${req}'s access to ${t} ended: failed${note(l.note)}`
        : `:x: ${req}'s access to ${t} failed to start${note(l.note)}`;
    case 'extension-approval-recorded':
      return `:ballot_box_with_check: Approved by ${by}: extending ${req}'s access to ${t}${more}${note(l.note, ', ')}`;
    case 'extension-approved':
      return `:white_check_mark: Approved by ${by}: extending ${req}'s access to ${t}${more}${until}`;
    case 'extension-denied':
      return `:no_entry_sign: Denied by ${by}: extending ${req}'s access to ${t}${more}${note(l.note)}`;
    case 'extended':
      return `:stopwatch: ${req}'s access to ${t} extended${more}${until}`;
    case 'released':
      return `:wave: ${req} released their access to ${t}`;
    case 'revoked':
      return `:lock: Revoked by ${by}: ${req}'s access to ${t}${note(l.note)}`;
    case 'expired':
      return `:lock: ${req}'s access to ${t} expired`;
  }
}

function runSentence(l: RunAuditLine, where: string): string {
  const what = `${target(l.snippet)} on ${target(l.target)}${where}`;
  const req = mention(l.requester);
  switch (l.kind) {
    case 'sent': {
      const nodes = l.nodes !== undefined ? ` (${l.nodes} ${l.nodes === 1 ? 'node' : 'nodes'})` : '';
      return `:arrow_forward: Run sent: ${what} for ${req}${nodes}`;
    }
    case 'finished':
      return `:checkered_flag: Run finished: ${what} for ${req}: ${outcome(l)}`;
    case 'failed':
      return `:x: Run failed: ${what} for ${req}${note(l.note)}`;
    case 'denied':
      return `:no_entry_sign: Run denied${l.by ? ` by ${mention(l.by)}` : ''}: ${what} for ${req}`;
  }
}

function outcome(l: RunAuditLine): string {
  if (l.end === 'no-nodes') return 'nothing sent, no node has its tags';
  if (l.end === 'no-online-nodes') return 'nothing sent, none of its nodes is online';
  // The run message's own summary words, so the trail and the thread never disagree.
  return summaryLine(l.counts ?? {});
}

/** Notification text: tokens would show raw in a push notification, so mentions and dates are kept simple. */
function plainFallback(text: string): string {
  return text
    .replace(/<!date\^\d+\^[^|]*\|([^>]*)>/g, '$1')
    .replace(/:[a-z_]+: /g, '')
    .slice(0, 3000);
}
