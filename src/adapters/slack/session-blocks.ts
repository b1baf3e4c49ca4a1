import type { KnownBlock } from '@slack/types';
import { formatElapsed } from '../../domain/digest';
import type { ServedPlaces } from '../../domain/place';
import { isTranscribed, type Session, type SessionDocument, sessionSeconds } from '../../domain/session';
import type { SessionStartView, SessionSummaryView, UnmatchedSessionView } from '../../ports/session-chat';
import {
  code,
  context,
  escapeMrkdwn,
  mention,
  redactSecrets,
  section,
  slackDate,
  type SlackMessage,
  truncate,
} from './block-kit';
import { inPlace } from './grant-phrases';

/** Node names (EC2 Name tags may be 256 characters) and ids shown in a line. */
const MAX_NODE_TEXT = 80;
/** IAM ARNs are at most 2,048 characters; an ARN that long says nothing more in a thread. */
const MAX_ARN_TEXT = 300;
/** Revoke reasons come from a slash command; cut like the grant messages cut them. */
const MAX_REASON_TEXT = 500;
/** OutputUrl is an AWS console or S3 URL; anything longer is not what we expect. */
const MAX_URL_TEXT = 1000;

const OPENED: Record<SessionDocument, string> = {
  shell: 'opened a shell',
  ssh: 'opened an SSH session',
  'port-forward': 'opened a port forward',
  other: 'opened a session',
};

const KIND_WORDS: Record<SessionDocument, string> = {
  shell: 'Shell',
  ssh: 'SSH session',
  'port-forward': 'Port forward',
  other: 'Session',
};

/** "raspi-line-1 (`mi-…`)", or the id alone when the node's name is unknown. */
export function nodeLabel(session: Pick<Session, 'node'>): string {
  const node = session.node;
  if (node === undefined) return 'an unknown node';
  const id = code(node.id, MAX_NODE_TEXT);
  return node.name ? `${truncate(escapeMrkdwn(node.name), MAX_NODE_TEXT)} (${id})` : id;
}

function documentLabel(session: Session): string {
  const kind = session.document ?? 'other';
  return kind === 'other' && session.documentName ? ` (${code(session.documentName, MAX_NODE_TEXT)})` : '';
}

/**
 * One short line in the grant's request thread: who opened what where. `served` names the grant's
 * account and region when Keyturn serves more than one place.
 */
export function sessionStartedReply(view: SessionStartView, served?: ServedPlaces): SlackMessage {
  const { session, grant } = view;
  const kind = session.document ?? 'other';
  const line = `${mention(grant.requester)} ${OPENED[kind]}${documentLabel(session)} on ${nodeLabel(session)}${inPlace(served, grant)}`;
  const when = session.startedAt === undefined ? '' : ` ${slackDate(session.startedAt)}`;
  return {
    text: `${line}${when}`,
    blocks: [section(`${line}${when} — session ${code(session.id, MAX_NODE_TEXT * 2)}`)],
  };
}

function arnCode(arn: string): string {
  return code(arn, MAX_ARN_TEXT);
}

/** How the session ended, in a few words. */
export function endingText(view: SessionSummaryView): string {
  const { ending, grant } = view;
  switch (ending.kind) {
    case 'exited':
      return `exited: ${mention(grant.requester)} ended it`;
    case 'grant-ended':
      switch (ending.status) {
        case 'expired':
          return 'terminated by Keyturn at expiry';
        case 'released':
          return `terminated by Keyturn when ${mention(ending.by)} released access`;
        case 'revoked': {
          const reason = ending.reason?.trim();
          const why = reason ? `: ${truncate(escapeMrkdwn(reason), MAX_REASON_TEXT)}` : '';
          return `revoked by ${mention(ending.by)}${why}`;
        }
        case 'failed':
          return `terminated by Keyturn: the grant failed${ending.reason ? ` (${truncate(escapeMrkdwn(redactSecrets(ending.reason)), MAX_REASON_TEXT)})` : ''}`;
      }
      break;
    case 'terminated':
      return `terminated by ${arnCode(ending.by)}`;
    case 'no-api-call':
      return 'ended on the node with no API call (`exit`, idle timeout or a lost agent)';
    case 'unknown':
      return 'ended; Keyturn could not tell how (it left Session Manager’s lists)';
  }
  return 'ended';
}

/** A log link Slack can open: console and S3 HTTPS URLs as links, anything else as code. */
function logLink(url: string): string {
  const label = /cloudwatch|logEventViewer|log-group/i.test(url)
    ? 'CloudWatch Logs'
    : /(^s3:|[./]s3[.-])/i.test(url)
      ? 'S3'
      : 'session log';
  if (/^https:\/\/[^\s|<>]+$/.test(url) && url.length <= MAX_URL_TEXT)
    return `<${url.replace(/&/g, '&amp;')}|${label}>`;
  return `${label}: ${code(url, MAX_URL_TEXT)}`;
}

/**
 * The end-of-session summary, in the grant's request thread. `served` names the grant's account and
 * region when Keyturn serves more than one place.
 */
export function sessionSummary(view: SessionSummaryView, served?: ServedPlaces): SlackMessage {
  const { session, grant } = view;
  const kind = session.document ?? 'other';
  const headline = `${KIND_WORDS[kind]}${documentLabel(session)} of ${mention(grant.requester)} on ${nodeLabel(session)}${inPlace(served, grant)} ended`;
  const { startedAt, endedAt } = session;
  const seconds = endedAt === undefined ? 0 : sessionSeconds(session, endedAt);
  const span =
    startedAt === undefined || endedAt === undefined
      ? ''
      : `${slackDate(startedAt)} – ${slackDate(endedAt)} (${formatElapsed(seconds)})`;
  const lines = [`*${headline}*`];
  if (span) lines.push(`*When:* ${span}`);
  lines.push(`*How:* ${endingText(view)}`);
  if (session.outputUrl) lines.push(`*Log:* ${logLink(session.outputUrl)}`);
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  const notes = [`Session ${code(session.id, MAX_NODE_TEXT * 2)}`];
  if (!isTranscribed(kind))
    notes.push(
      kind === 'ssh'
        ? 'SSH sessions are not transcribed by Session Manager logging: the log has no keystrokes or output.'
        : kind === 'port-forward'
          ? 'Port-forwarding sessions are not transcribed by Session Manager logging.'
          : 'Session Manager logging may not transcribe this kind of session.',
    );
  blocks.push(context(notes.join(' · ')));
  return { text: `${headline}${span ? ` (${formatElapsed(seconds)})` : ''}: ${endingText(view)}`, blocks };
}

/** The audit-channel message for a session no grant explains. */
export function unmatchedSessionAudit(view: UnmatchedSessionView): SlackMessage {
  const { session, people } = view;
  const owner = session.owner === undefined ? 'an unknown caller' : arnCode(session.owner);
  const mapped = people.length === 0 ? '' : ` (${people.map(mention).join(', ')})`;
  const kind = session.document ?? 'other';
  const when = session.startedAt === undefined ? '' : ` ${slackDate(session.startedAt)}`;
  const text = `A session matched no Keyturn grant: ${escapeMrkdwn(truncate(session.owner ?? 'unknown caller', MAX_ARN_TEXT))} on ${escapeMrkdwn(truncate(session.node?.id ?? 'an unknown node', MAX_NODE_TEXT))}`;
  return {
    text,
    blocks: [
      section(
        [
          `*Session without a grant:* ${owner}${mapped} ${OPENED[kind]}${documentLabel(session)} on ${nodeLabel(session)}${when}.`,
          'No Keyturn grant explains it: this principal can start sessions some other way (a standing `ssm:StartSession`). Check its IAM policies.',
        ].join('\n'),
      ),
      context(`Session ${code(session.id, MAX_NODE_TEXT * 2)}`),
    ],
  };
}
