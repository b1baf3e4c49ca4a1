import type { CommandRun, NodeOutcome, RunEnd } from './command-run';
import type { Grant, MessageRef } from './grant';

/** The grant moves the audit trail records: one line each (issue 15 point 3). */
export type GrantAuditKind =
  | 'requested'
  | 'approval-recorded'
  | 'approved'
  | 'denied'
  | 'cancelled'
  | 'lapsed'
  | 'active'
  | 'failed'
  | 'extension-approval-recorded'
  | 'extension-approved'
  | 'extension-denied'
  | 'extended'
  | 'released'
  | 'revoked'
  | 'expired';

export interface GrantAuditLine {
  subject: 'grant';
  kind: GrantAuditKind;
  grantId: string;
  target: string;
  /** The account and region the grant recorded (absent on grants from before: Keyturn's own). */
  account?: string;
  region?: string;
  requester: string;
  /** Who made the move: a Slack user id, or `keyturn` for the bot's own. */
  by: string;
  at: string;
  /** The grant's (or the extension's) length in minutes, where the line names one. */
  minutes?: number;
  /** The expiry the move set (active, extended) or will set (extension approved). */
  until?: string;
  /** Free text a person or the bot gave: deny or revoke reason, failure, approval count. */
  note?: string;
  /** The approval card: its thread holds the request's story. */
  thread?: MessageRef;
  /** `failed` after the grant was active: access ended, rather than never started. */
  wasActive?: boolean;
}

export type RunAuditKind = 'sent' | 'finished' | 'failed' | 'denied';

export interface RunAuditLine {
  subject: 'run';
  kind: RunAuditKind;
  runId: string;
  snippet: string;
  target: string;
  /** The account and region the run recorded (absent on runs from before: Keyturn's own). */
  account?: string;
  region?: string;
  requester: string;
  /** The approver who denied it. */
  by?: string;
  at: string;
  /** Nodes the command went to (sent), from the snapshot taken before sending. */
  nodes?: number;
  end?: RunEnd;
  counts?: Partial<Record<NodeOutcome, number>>;
  note?: string;
  /** The run's message, where `/run` was typed: node results are in its thread. */
  thread?: MessageRef;
}

export type AuditLine = GrantAuditLine | RunAuditLine;

function located(record: { account?: string; region?: string }): { account?: string; region?: string } {
  return {
    ...(record.account === undefined ? {} : { account: record.account }),
    ...(record.region === undefined ? {} : { region: record.region }),
  };
}

/**
 * The audit line for the grant's history entry `step`, or none for bookkeeping moves the trail
 * leaves out (asking to end or to extend: the move that follows is the one recorded).
 */
export function grantAuditLine(grant: Grant, step: number): GrantAuditLine | undefined {
  const entry = grant.history[step];
  if (!entry) return undefined;
  const base = {
    subject: 'grant' as const,
    grantId: grant.id,
    target: grant.target,
    ...located(grant),
    requester: grant.requester,
    by: entry.by,
    at: entry.at,
    ...(grant.card ? { thread: grant.card } : {}),
  };
  const note = entry.note !== undefined ? { note: entry.note } : {};
  if (entry.from === null)
    return { ...base, kind: 'requested', minutes: grant.durationMinutes, note: grant.reason };
  switch (entry.to) {
    case 'pending':
      return entry.event === 'approval-recorded'
        ? { ...base, kind: 'approval-recorded', ...note }
        : undefined;
    case 'approved':
      return { ...base, kind: 'approved', minutes: grant.durationMinutes };
    case 'denied': {
      const reason = grant.denyReason ?? entry.note;
      return { ...base, kind: 'denied', ...(reason ? { note: reason } : {}) };
    }
    case 'cancelled':
    case 'lapsed':
    case 'expired':
    case 'released':
      return { ...base, kind: entry.to };
    case 'revoked': {
      const reason = grant.ending?.reason;
      return { ...base, kind: 'revoked', ...(reason ? { note: reason } : {}) };
    }
    case 'failed': {
      const reason = grant.failureReason ?? grant.ending?.reason ?? entry.note;
      return {
        ...base,
        kind: 'failed',
        ...(reason ? { note: reason } : {}),
        ...(entry.from === 'active' ? { wasActive: true } : {}),
      };
    }
    case 'active':
      return activeLine(grant, entry.from, entry.event, base, note);
    default:
      return undefined;
  }
}

function activeLine(
  grant: Grant,
  from: Grant['status'] | null,
  event: string | undefined,
  base: Omit<GrantAuditLine, 'kind'>,
  note: { note?: string },
): GrantAuditLine | undefined {
  if (from === 'approved')
    return { ...base, kind: 'active', ...(grant.expiresAt ? { until: grant.expiresAt } : {}) };
  const minutes = grant.extension?.minutes;
  const withMinutes = minutes !== undefined ? { minutes } : {};
  switch (event) {
    case 'extension-approval-recorded':
      return { ...base, kind: 'extension-approval-recorded', ...withMinutes, ...note };
    case 'extension-approved':
      return {
        ...base,
        kind: 'extension-approved',
        ...withMinutes,
        ...(grant.extension?.newExpiresAt ? { until: grant.extension.newExpiresAt } : {}),
      };
    case 'extension-denied':
      return { ...base, kind: 'extension-denied', ...withMinutes, ...note };
    case 'extended':
      return {
        ...base,
        kind: 'extended',
        ...withMinutes,
        ...(grant.expiresAt ? { until: grant.expiresAt } : {}),
      };
    default:
      return undefined;
  }
}

/** The audit line for where a run stands now, or none while it waits (awaiting approval, queued, sending). */
export function runAuditLine(run: CommandRun): RunAuditLine | undefined {
  const base = {
    subject: 'run' as const,
    runId: run.id,
    snippet: run.snippet,
    target: run.target,
    ...located(run),
    requester: run.requester,
    ...(run.message ? { thread: run.message } : {}),
  };
  switch (run.status) {
    case 'running':
      return {
        ...base,
        kind: 'sent',
        at: run.sentAt ?? run.requestedAt,
        ...(run.nodes ? { nodes: run.nodes.length } : {}),
      };
    case 'finished':
      return {
        ...base,
        kind: 'finished',
        at: run.finishedAt ?? run.requestedAt,
        ...(run.end ? { end: run.end } : {}),
        counts: run.counts ?? {},
      };
    case 'failed':
      return {
        ...base,
        kind: 'failed',
        at: run.finishedAt ?? run.requestedAt,
        ...(run.failureReason ? { note: run.failureReason } : {}),
      };
    case 'denied':
      return {
        ...base,
        kind: 'denied',
        at: run.decidedAt ?? run.requestedAt,
        ...(run.decidedBy ? { by: run.decidedBy } : {}),
      };
    default:
      return undefined;
  }
}
