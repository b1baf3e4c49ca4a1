import type { MrkdwnElement } from '@slack/types';
import { formatDuration } from '../../domain/duration';
import type { Ending, Grant, GrantStatus, HistoryEntry, HistoryEvent } from '../../domain/grant';
import { countOnline, type ManagedNode } from '../../domain/node';
import { type ServedPlaces, whereShown } from '../../domain/place';
import type { Target } from '../../domain/target';
import {
  at,
  DENY_REASON_MAX_LENGTH,
  escapeMrkdwn,
  MAX_ERROR_TEXT,
  MAX_FIELD_TEXT,
  md,
  mention,
  NODE_LIST_CAP,
  plural,
  redactSecrets,
  slackDate,
  truncate,
} from './block-kit';

/*
 * How a grant reads wherever it is shown: its target, who moved it and when, why, how it ended,
 * its nodes. Shared by the request card, the extension card and the requester's DMs, so they never
 * describe one grant two ways.
 */

/** EC2 Name tags may be 256 characters; ten of those would crowd out everything else. */
const MAX_NODE_NAME = 80;
/** Revoke reasons come from a slash command, which has no input limit of its own; cut like deny reasons. */
const MAX_REASON = DENY_REASON_MAX_LENGTH;

export function tagList(target: Target): string {
  return Object.entries(target.tags)
    .map(([k, v]) => `${escapeMrkdwn(k)}=${escapeMrkdwn(v)}`)
    .join(' and ');
}

/**
 * ` in factory (444455556666), ap-northeast-3`: where a grant, run or target is, or nothing when it
 * is the one place Keyturn serves (src/domain/place.ts whereShown) or `served` is not given.
 */
export function inPlace(
  served: ServedPlaces | undefined,
  record: { account?: string; region?: string },
): string {
  const where = served === undefined ? undefined : whereShown(served, record);
  return where === undefined ? '' : ` in ${escapeMrkdwn(where)}`;
}

export function targetLabel(target: Target): string {
  return escapeMrkdwn(target.name);
}

/** The latest history entry that moved the grant into `status`: who did it, and when. */
export function lastMove(grant: Grant, status: GrantStatus): HistoryEntry | undefined {
  for (let i = grant.history.length - 1; i >= 0; i--) {
    const entry = grant.history[i];
    if (entry?.to === status) return entry;
  }
  return undefined;
}

export function byAt(by: string | undefined, when: string | undefined): string {
  return `${by === undefined ? '' : ` by ${mention(by)}`}${at(when)}`;
}

export function approverList(grant: Grant): string {
  const ids = grant.approvals.length > 0 ? grant.approvals.map((a) => a.by) : [grant.decidedBy ?? 'keyturn'];
  return ids.map(mention).join(', ');
}

export function reasonText(reason: string | undefined): string {
  const trimmed = reason?.trim();
  return trimmed ? truncate(escapeMrkdwn(trimmed), MAX_REASON) : 'no reason given';
}

export function sessionsEnded(grant: Grant): string {
  return `${plural(grant.sessionsEnded ?? 0, 'session', 'sessions')} ended`;
}

/** The latest history entry that recorded `event` (extension approvals keep the status, so lastMove cannot find them). */
export function lastEvent(grant: Grant, event: HistoryEvent): HistoryEntry | undefined {
  for (let i = grant.history.length - 1; i >= 0; i--) {
    const entry = grant.history[i];
    if (entry?.event === event) return entry;
  }
  return undefined;
}

function isEnding(status: GrantStatus): status is Ending['status'] {
  return status === 'expired' || status === 'released' || status === 'revoked' || status === 'failed';
}

/** Failure reasons quote AWS errors: cut to a readable length, with anything secret-shaped removed. */
export function failureText(grant: Grant): string {
  const reason = grant.failureReason ?? grant.ending?.reason ?? 'unknown error';
  return truncate(escapeMrkdwn(redactSecrets(reason)), MAX_ERROR_TEXT);
}

/**
 * How an active grant ended: `grant.ending` when the use case wrote one, otherwise read back from the
 * status and the move into it (a grant stored before endings existed, or a failure during apply).
 */
export function endingOf(grant: Grant): Partial<Ending> & Pick<Ending, 'status'> {
  if (grant.ending !== undefined) return grant.ending;
  const status = isEnding(grant.status) ? grant.status : 'expired';
  const move = lastMove(grant, status);
  return { status, by: move?.by, at: move?.at, reason: grant.failureReason };
}

/** "until <date>" once approved; before that the window starts at approval, so only the length is known. */
export function until(grant: Grant): string {
  return grant.expiresAt === undefined
    ? `until ${formatDuration(grant.durationMinutes)} after approval`
    : `until ${slackDate(grant.expiresAt)}`;
}

const PING_WORDS: Record<ManagedNode['ping'], string> = {
  Online: 'online',
  ConnectionLost: 'connection lost',
  Inactive: 'inactive',
  Unknown: 'status unknown',
};

/** Online nodes first (those are the ones a user can reach now), otherwise in the order the fleet gave them. */
export function onlineFirst(nodes: readonly ManagedNode[]): ManagedNode[] {
  return [...nodes.filter((n) => n.ping === 'Online'), ...nodes.filter((n) => n.ping !== 'Online')];
}

export function nodeCount(nodes: readonly ManagedNode[]): string {
  const { total, offline } = countOnline(nodes);
  return `${plural(total, 'node', 'nodes')} (${offline} offline)`;
}

export function nodeLines(nodes: readonly ManagedNode[]): string[] {
  const sorted = onlineFirst(nodes);
  const lines = sorted.slice(0, NODE_LIST_CAP).map((n) => {
    const id = `\`${escapeMrkdwn(n.id)}\``;
    const label =
      n.name === undefined || n.name === '' ? id : `${truncate(escapeMrkdwn(n.name), MAX_NODE_NAME)} ${id}`;
    return `• ${label}${n.ping === 'Online' ? '' : ` — ${PING_WORDS[n.ping]}`}`;
  });
  if (sorted.length > NODE_LIST_CAP) lines.push(`…and ${sorted.length - NODE_LIST_CAP} more`);
  return lines;
}

export function progress(approvals: readonly { by: string }[], need: number): string {
  const approvedBy =
    approvals.length === 0 ? '' : ` — approved by ${approvals.map((a) => mention(a.by)).join(', ')}`;
  return `*Pending:* ${approvals.length} of ${plural(need, 'approval', 'approvals')}${approvedBy}`;
}

export function field(label: string, value: string): MrkdwnElement {
  return md(`*${label}*\n${value}`, MAX_FIELD_TEXT);
}

export function targetWithDescription(target: Target): string {
  return target.description === ''
    ? targetLabel(target)
    : `${targetLabel(target)} — ${escapeMrkdwn(target.description)}`;
}

export function requestReason(grant: Grant): string {
  return grant.reason.trim() === '' ? 'none given' : escapeMrkdwn(grant.reason);
}
