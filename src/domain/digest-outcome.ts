import type { CommandRun } from './command-run';
import type { Grant } from './grant';

/** How the digest counts what happened to a request and to a Run Command run. */

/** How a request ended up: approved covers every grant that was approved, however it ended later. */
export const REQUEST_OUTCOMES = ['approved', 'denied', 'lapsed', 'cancelled', 'failed', 'pending'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

export function requestOutcome(grant: Grant): RequestOutcome {
  switch (grant.status) {
    case 'pending':
    case 'denied':
    case 'lapsed':
    case 'cancelled':
      return grant.status;
    case 'failed':
      // A grant that failed after it was active (its policy vanished) had been approved and used.
      return grant.history.some((h) => h.to === 'active') ? 'approved' : 'failed';
    case 'approved':
    case 'active':
    case 'expired':
    case 'revoked':
    case 'released':
      return 'approved';
  }
}

/** Run Command outcomes as the digest counts them. */
export const RUN_OUTCOMES = ['succeeded', 'partial', 'failed', 'no-nodes', 'denied', 'in-progress'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** A run's outcome in the words its own message in the channel uses (src/adapters/slack/run-phrases.ts), never a raw id. */
export const RUN_OUTCOME_WORDS: Readonly<Record<RunOutcome, string>> = {
  succeeded: 'succeeded',
  partial: 'failed on some nodes',
  failed: 'failed',
  'no-nodes': 'did not run',
  denied: 'denied',
  'in-progress': 'running',
};

/** One Run Command run, as the digest needs it. */
export interface DigestRun {
  id: string;
  snippet: string;
  target: string;
  /** Where it ran (absent on runs from before: Keyturn's own account and region). */
  account?: string;
  region?: string;
  requester: string;
  at: string;
  outcome: RunOutcome;
  /** Nodes it ran on, and how many of them did not succeed. */
  nodeCount: number;
  failedCount: number;
  /** Names (or ids) of the nodes that did not succeed, when read; may be fewer than failedCount. */
  failedNodes: readonly string[];
  /** Why the run itself failed (SendCommand refused), when it did. */
  reason?: string;
}

/** How a run ended up, from its status and its node outcome counts. */
export function runOutcome(run: CommandRun): RunOutcome {
  switch (run.status) {
    case 'denied':
      return 'denied';
    case 'failed':
      return 'failed';
    case 'finished': {
      if (run.end === 'no-nodes' || run.end === 'no-online-nodes') return 'no-nodes';
      const { total, failed } = nodeTally(run);
      if (failed === 0) return 'succeeded';
      return failed < total ? 'partial' : 'failed';
    }
    default:
      return 'in-progress';
  }
}

function nodeTally(run: CommandRun): { total: number; failed: number } {
  let total = 0;
  let failed = 0;
  for (const [outcome, n] of Object.entries(run.counts ?? {})) {
    total += n ?? 0;
    if (outcome !== 'succeeded') failed += n ?? 0;
  }
  return { total, failed };
}

/** The digest's view of a run; `failedNodes` are the names of its failed nodes, when the caller read them. */
export function digestRun(run: CommandRun, failedNodes: readonly string[] = []): DigestRun {
  const { total, failed } = nodeTally(run);
  return {
    id: run.id,
    snippet: run.snippet,
    target: run.target,
    ...(run.account === undefined ? {} : { account: run.account }),
    ...(run.region === undefined ? {} : { region: run.region }),
    requester: run.requester,
    at: run.requestedAt,
    outcome: runOutcome(run),
    nodeCount: total,
    failedCount: failed,
    failedNodes,
    ...(run.status === 'failed' && run.failureReason !== undefined ? { reason: run.failureReason } : {}),
  };
}

export function isRunFailure(run: Pick<DigestRun, 'outcome'>): boolean {
  return run.outcome === 'failed' || run.outcome === 'partial';
}
