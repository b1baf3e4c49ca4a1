import type { Approval, Grant, MessageRef } from './grant';
import type { ManagedNode } from './node';
import { err, ok, type Result } from './result';
import type { Target } from './target';

/**
 * A snippet run through Run Command (DESIGN.md "State": CommandRun). Like a grant, every move is a
 * conditional write on the version that was read, so a retried Slack request, two workers or a
 * redelivered job can never send the command twice: only the worker that moves the run from
 * `queued` to `sending` calls SendCommand.
 */
export const RUN_STATUSES = [
  'awaiting-approval',
  'queued',
  'sending',
  'running',
  'finished',
  'denied',
  'failed',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const NEXT: Record<RunStatus, readonly RunStatus[]> = {
  // A pending run may stay pending while approvals accumulate; → failed when its target left the config.
  'awaiting-approval': ['awaiting-approval', 'queued', 'denied', 'failed'],
  // queued → finished: the target had no node (or none online), so nothing was sent.
  queued: ['sending', 'finished', 'failed'],
  // sending → queued: SSM throttled the send, so it certainly did not run and may be tried again.
  sending: ['queued', 'running', 'failed'],
  running: ['finished'],
  finished: [],
  denied: [],
  failed: [],
};

export function canMoveRun(from: RunStatus, to: RunStatus): boolean {
  return NEXT[from].includes(to);
}

/** How a finished run ended: it ran, or there was nowhere to run it (nothing was sent). */
export type RunEnd = 'completed' | 'no-nodes' | 'no-online-nodes';

/** The node outcomes a run summary counts. */
export const NODE_OUTCOMES = [
  'succeeded',
  'failed',
  'timed-out',
  'delivery-timed-out',
  'undeliverable',
  'cancelled',
  /** SSM gave no final status before the run's deadline. */
  'no-result',
] as const;
export type NodeOutcome = (typeof NODE_OUTCOMES)[number];

export interface CommandRun {
  id: string;
  /** Slack's `trigger_id` of the `/run` request: a retried request carries the same one. */
  requestKey?: string;
  snippet: string;
  target: string;
  /** The account and region the command is sent in (absent on runs from before: Keyturn's own). */
  account?: string;
  region?: string;
  /** Every parameter's value, defaults filled in, as checked. */
  params: Record<string, string>;
  /** The exact command line sent, values quoted. */
  command: string;
  requester: string;
  /** Where `/run` was typed: the run's message and its thread go there. */
  channel: string;
  status: RunStatus;
  /** Incremented by every write; each write is conditional on the version it read. */
  version: number;
  requestedAt: string;
  needsApproval: boolean;
  approvals: Approval[];
  decidedBy?: string;
  decidedAt?: string;
  /** The target's nodes when the worker first looked (for the message; SSM resolves the tags itself). */
  nodes?: ManagedNode[];
  /** The run's message in `channel`; node results go in its thread. */
  message?: MessageRef;
  /** The approval card in the requests channel. */
  card?: MessageRef;
  /** SendCommand `Comment`: names the run and the requester, and finds the command after a crash mid-send. */
  comment: string;
  /** Seconds SSM waits for delivery, and for the command to finish on a node (AWS default when absent). */
  deliveryTimeoutSeconds: number;
  executionTimeoutSeconds?: number;
  maxConcurrency?: string;
  maxErrors?: string;
  /** When a worker claimed the run to send it (status `sending`). */
  sendingAt?: string;
  commandId?: string;
  sentAt?: string;
  /** When SSM itself gives up on the command (its `ExpiresAfter`); tracking stops a little after. */
  expiresAt?: string;
  finishedAt?: string;
  end?: RunEnd;
  failureReason?: string;
  /** Node outcomes, counted when the run finished (the digest reads these). */
  counts?: Partial<Record<NodeOutcome, number>>;
  /** Ran against the sandbox's simulated account: every message says so. */
  simulated: boolean;
}

/**
 * One node's final result. Output is stored cut (`STORED_OUTPUT_CHARS`): Slack shows less, and 200
 * nodes of 24,000 characters would not fit a DynamoDB item; `…Chars` keep the length SSM returned.
 */
export interface NodeResult {
  nodeId: string;
  nodeName?: string;
  outcome: NodeOutcome;
  /** SSM's `Status` and `StatusDetails`, as reported. */
  status: string;
  statusDetails?: string;
  /** The script's exit code; -1 when it never ran (FACTS.md). */
  exitCode?: number;
  startedAt?: string;
  endedAt?: string;
  stdout: string;
  stdoutChars: number;
  stderr: string;
  stderrChars: number;
  /** Where the full output is, when output is configured: an S3 URL, or a CloudWatch Logs group and stream. */
  stdoutLocation?: string;
  stderrLocation?: string;
  /** When its thread reply was claimed: each result is posted once, by whichever path claims it. */
  postedAt?: string;
}

/** GetCommandInvocation returns at most this much of each stream (FACTS.md "Run Command"). */
export const SSM_STDOUT_LIMIT = 24_000;
export const SSM_STDERR_LIMIT = 8_000;
/** Output kept per stream per node: more than a Slack section shows, small enough for 400 KB items. */
export const STORED_OUTPUT_CHARS = 4_000;
/** SendCommand's Comment is at most 100 characters. */
export const MAX_COMMENT_CHARS = 100;
/** A run with more nodes than this gets its results grouped by identical result when it finishes (result-groups.ts) … */
export const BATCH_ABOVE_NODES = 20;
/** … (a thread reply that lists several nodes' own results takes at most this many, one section each). */
export const RESULTS_PER_MESSAGE = 10;
/** SendCommand TimeoutSeconds when the snippet sets none: offline nodes are reported after this. */
export const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 300;
/** AWS-RunShellScript's own default executionTimeout. */
export const AWS_DEFAULT_EXECUTION_TIMEOUT_SECONDS = 3_600;
/** Slack for SSM's last status change to arrive after its deadline before a node counts as "no result". */
export const TRACKING_GRACE_SECONDS = 120;

export type MoveError = { reason: 'illegal-move'; from: RunStatus; to: RunStatus };

/** The run after a move, version bumped. Pure: the store writes it conditioned on the version read. */
export function moveRun(
  run: CommandRun,
  to: RunStatus,
  set: Partial<Omit<CommandRun, 'id' | 'status' | 'version'>> = {},
): Result<CommandRun, MoveError> {
  if (!canMoveRun(run.status, to)) return err({ reason: 'illegal-move', from: run.status, to });
  return ok({ ...run, ...set, status: to, version: run.version + 1 });
}

/**
 * A node's outcome from SSM's Status and StatusDetails, or undefined while it is still on its way
 * (Pending, InProgress, Delayed, Cancelling). StatusDetails is read first: it tells a delivery
 * timeout (never ran) from an execution timeout, and names Undeliverable and Terminated, which
 * Status folds into coarser values.
 */
export function classifyInvocation(status: string, statusDetails?: string): NodeOutcome | undefined {
  const detail = normalize(statusDetails ?? '');
  if (detail === 'deliverytimedout') return 'delivery-timed-out';
  if (detail === 'executiontimedout') return 'timed-out';
  if (detail === 'undeliverable') return 'undeliverable';
  // "Terminated": the command exceeded MaxErrors and SSM cancelled the remaining invocations.
  if (detail === 'terminated') return 'cancelled';
  switch (normalize(status)) {
    case 'success':
      return 'succeeded';
    case 'failed':
      return 'failed';
    case 'timedout':
    case 'executiontimedout':
      return 'timed-out';
    case 'deliverytimedout':
      return 'delivery-timed-out';
    case 'undeliverable':
      return 'undeliverable';
    case 'cancelled':
    case 'canceled':
    case 'terminated':
      return 'cancelled';
    default:
      return undefined;
  }
}

function normalize(s: string): string {
  return s.toLowerCase().replace(/[\s_-]/g, '');
}

/** How many nodes ended each way. */
export function countOutcomes(results: readonly Pick<NodeResult, 'outcome'>[]): Record<NodeOutcome, number> {
  const counts = Object.fromEntries(NODE_OUTCOMES.map((o) => [o, 0])) as Record<NodeOutcome, number>;
  for (const r of results) counts[r.outcome]++;
  return counts;
}

/** SendCommand's Comment: the run id first, so it survives the 100-character cut and can be searched for. */
export function runComment(run: Pick<CommandRun, 'id' | 'requester' | 'snippet' | 'target'>): string {
  const text = `Keyturn run ${run.id} by ${run.requester}: ${run.snippet} on ${run.target}`;
  return text.length <= MAX_COMMENT_CHARS ? text : `${text.slice(0, MAX_COMMENT_CHARS - 1)}…`;
}

/**
 * Whether the SSM command whose Comment is `comment` is the one this run sent. The stored command id
 * is not evidence enough (issue 11): a run written into the table could name another tool's command,
 * and have its output posted. Unknown (SSM does not list the command yet) is not a mismatch.
 */
export function isRunsCommand(
  run: Pick<CommandRun, 'id' | 'requester' | 'snippet' | 'target'>,
  comment: string | undefined,
): boolean {
  return comment === undefined || comment === runComment(run);
}

/**
 * When tracking stops waiting for SSM: its own ExpiresAfter when known, else the send time plus
 * the delivery and execution timeouts; plus a grace period for the last status change to arrive.
 */
export function trackingDeadline(run: CommandRun): string {
  const timeouts =
    (run.deliveryTimeoutSeconds + (run.executionTimeoutSeconds ?? AWS_DEFAULT_EXECUTION_TIMEOUT_SECONDS)) *
    1000;
  const expires = run.expiresAt ? Date.parse(run.expiresAt) : Number.NaN;
  const base = Number.isNaN(expires) ? Date.parse(run.sentAt ?? run.requestedAt) + timeouts : expires;
  return new Date(base + TRACKING_GRACE_SECONDS * 1000).toISOString();
}

/**
 * Whether node results are grouped (posted once the run finishes, identical results together) rather
 * than one message per node as each ends. One message per node reads best, but chat.postMessage allows
 * about one message per second per channel, and 500 messages would bury the thread.
 */
export function batchesResults(run: Pick<CommandRun, 'nodes'>, nodeCount?: number): boolean {
  return (nodeCount ?? run.nodes?.length ?? 0) > BATCH_ABOVE_NODES;
}

/** Statuses after which nothing more happens to a run. */
export function isRunClosed(status: RunStatus): boolean {
  return status === 'finished' || status === 'denied' || status === 'failed';
}

/** Cuts stored output without splitting a surrogate pair. */
export function cutOutput(text: string, max: number = STORED_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** Why a user may run a target's snippets: listed as a runner, or holding an active grant on it now. */
export type RunPermission =
  | { allowed: true; via: 'runner' }
  | { allowed: true; via: 'grant'; grantId: string; expiresAt?: string }
  | { allowed: false };

/**
 * Who may run (issue 4): a target's listed runners, and anyone whose grant on that target is active
 * now (inside its window and not being ended). Being mapped to an AWS identity is checked first by
 * the caller; config refuses runners who are not mapped.
 */
export function runPermission(input: {
  user: string;
  target: Target;
  grants: readonly Grant[];
  now: string;
}): RunPermission {
  if (input.target.runners?.includes(input.user)) return { allowed: true, via: 'runner' };
  const grant = input.grants.find(
    (g) =>
      g.requester === input.user &&
      g.target === input.target.name &&
      g.status === 'active' &&
      g.ending === undefined &&
      (g.startsAt === undefined || g.startsAt <= input.now) &&
      (g.expiresAt === undefined || g.expiresAt > input.now),
  );
  if (!grant) return { allowed: false };
  return {
    allowed: true,
    via: 'grant',
    grantId: grant.id,
    ...(grant.expiresAt !== undefined ? { expiresAt: grant.expiresAt } : {}),
  };
}
