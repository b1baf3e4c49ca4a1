import {
  batchesResults,
  classifyInvocation,
  type CommandRun,
  countOutcomes,
  cutOutput,
  isRunsCommand,
  moveRun,
  type NodeResult,
  trackingDeadline,
} from '../domain/command-run';
import { groupResults } from '../domain/result-groups';
import { toIsoSeconds } from '../domain/grant';
import type { CommandProgress, InvocationResult, InvocationStatus } from '../ports/command-runner';
import type { RunMessageView } from '../ports/run-chat';
import { auditRun } from './audit';
import { forEachBounded } from './bounded';
import type { Deps } from './deps';
import { updateRun } from './run-updates';
import { commandsFor } from './places';

export type TrackDeps = Pick<
  Deps,
  'config' | 'runs' | 'queue' | 'aws' | 'runChat' | 'chat' | 'clock' | 'logger' | 'runPolling'
>;

/**
 * One track-run job polls for at most `budgetMs`, then queues a fresh job: the Lambda worker has a
 * 300 s limit and takes up to 4 jobs per batch (serverless.yml), so 60 s each always fits. Polls come
 * every 1 s, then every 2 s, so the run's summary follows its last node within seconds (issue 13:
 * within 5 s at 500 nodes). A poll costs one ListCommands when no node has completed since the last,
 * and on a run over 20 nodes until the command is done (its results are posted at the end): every
 * invocation is listed, with its output, once.
 */
export const DEFAULT_RUN_POLLING = { budgetMs: 60_000, firstDelayMs: 1_000, maxDelayMs: 2_000 };
/** GetCommandInvocation calls in flight at once: SSM throttles, and results arrive in bursts. */
const RESULT_CONCURRENCY = 4;
/** Result writes in flight at once: a run on 500 nodes records most of them in one poll. */
const RECORD_CONCURRENCY = 16;

export type TrackOutcome = 'finished' | 'handed-over' | 'skipped';

/**
 * Worker job for a sent run: polls SSM with backoff, records each node's final result, posts it in the
 * run's thread once (a run on many nodes: grouped, when it finishes), keeps the run's message up to
 * date, and finishes the run when every node has ended or the command's deadline has passed. On
 * Lambda the status-change events do the same work as they arrive (recordInvocationEvent); this is
 * the bounded fallback, and both claim every post.
 */
export async function trackRun(deps: TrackDeps, runId: string): Promise<TrackOutcome> {
  const polling = deps.runPolling ?? DEFAULT_RUN_POLLING;
  const started = deps.clock.now().getTime();
  let delay = polling.firstDelayMs;
  /** Ended nodes at the last poll that looked at results, and how many the message shows. */
  let seenEnded = -1;
  let shown = 0;
  for (;;) {
    const run = await deps.runs.get(runId);
    if (run?.status !== 'running' || !run.commandId) return 'skipped';
    const overdue = deps.clock.now().toISOString() > trackingDeadline(run);
    // A run on many nodes reports them all at the end: until then SSM's count is enough.
    const atTheEnd = batchesResults(run) && !overdue;
    const progress = await commandsFor(deps, run).progress(
      run.commandId,
      atTheEnd ? { invocations: 'when-done' } : {},
    );
    if (!isRunsCommand(run, progress.comment)) {
      deps.logger.warn(
        { runId: run.id, commandId: run.commandId },
        "refused to track a run whose command id names a command it did not send (its comment is not the run's)",
      );
      return 'skipped';
    }
    const ended =
      progress.completedCount ??
      progress.invocations.filter((inv) => classifyInvocation(inv.status, inv.statusDetails) !== undefined)
        .length;
    if (atTheEnd && !progress.done) {
      if (ended > shown) {
        await redrawProgress(deps, run.id, { finished: ended });
        shown = ended;
      }
    } else if (ended !== seenEnded || progress.done || overdue) {
      const recorded = await collectResults(deps, run, run.commandId, progress.invocations);
      // A node SSM lists as ended but whose result is not there yet is looked at again next poll.
      seenEnded = recorded >= ended ? ended : -1;
      const settled = await settle(deps, run, { progress, postPartialBatches: true, shown });
      if (settled.state === 'finished') return 'finished';
      shown = settled.shown;
    }
    const elapsed = deps.clock.now().getTime() - started;
    if (elapsed >= polling.budgetMs) {
      await deps.queue.enqueue({ kind: 'track-run', runId });
      return 'handed-over';
    }
    await deps.clock.sleep(Math.min(delay, polling.budgetMs - elapsed));
    delay = Math.min(delay * 2, polling.maxDelayMs);
  }
}

/**
 * Records every node SSM lists as ended that has no recorded result yet: from the listing itself when
 * it carries the whole output (ListCommandInvocations with Details), else one GetCommandInvocation.
 */
async function collectResults(
  deps: TrackDeps,
  run: CommandRun,
  commandId: string,
  invocations: readonly InvocationStatus[],
): Promise<number> {
  const recorded = new Set((await deps.runs.nodeResults(run.id)).map((r) => r.nodeId));
  const ended = invocations.filter(
    (inv) => !recorded.has(inv.nodeId) && classifyInvocation(inv.status, inv.statusDetails) !== undefined,
  );
  const listed = ended.filter((inv) => inv.result !== undefined);
  const unlisted = ended.filter((inv) => inv.result === undefined);
  let added = 0;
  const record = async (result: InvocationResult) => {
    const node = toNodeResult(run, result);
    if (!node) return;
    await deps.runs.recordNode(run.id, node);
    added++;
  };
  await Promise.all([
    forEachBounded(listed, RECORD_CONCURRENCY, (inv) => record(inv.result as InvocationResult)),
    forEachBounded(unlisted, RESULT_CONCURRENCY, async (inv) =>
      record(await commandsFor(deps, run).result(commandId, inv.nodeId)),
    ),
  ]);
  return recorded.size + added;
}

/** A node's result as stored, or undefined while SSM still reports it on its way. */
export function toNodeResult(run: CommandRun, result: InvocationResult): NodeResult | undefined {
  const outcome = classifyInvocation(result.status, result.statusDetails);
  if (outcome === undefined) return undefined;
  const nodeName = run.nodes?.find((n) => n.id === result.nodeId)?.name ?? result.nodeName;
  return {
    nodeId: result.nodeId,
    ...(nodeName ? { nodeName } : {}),
    outcome,
    status: result.status,
    ...(result.statusDetails ? { statusDetails: result.statusDetails } : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.startedAt ? { startedAt: result.startedAt } : {}),
    ...(result.endedAt ? { endedAt: result.endedAt } : {}),
    stdout: cutOutput(result.stdout),
    stdoutChars: result.stdout.length,
    stderr: cutOutput(result.stderr),
    stderrChars: result.stderr.length,
    ...(result.stdoutLocation ? { stdoutLocation: result.stdoutLocation } : {}),
    ...(result.stderrLocation ? { stderrLocation: result.stderrLocation } : {}),
  };
}

/**
 * Posts what is recorded and not yet posted, then finishes the run if every node has ended (or the
 * deadline has passed), or else redraws its message with the progress. Shared by polling and events.
 * A run on more than 20 nodes posts nothing until it finishes, then its results grouped by identical
 * output. `shown`: how many finished nodes the message already shows (polling redraws when more
 * have); `postPartialBatches` is kept for the event path, which never redraws on its own.
 */
export async function settle(
  deps: TrackDeps,
  run: CommandRun,
  opts: { progress?: CommandProgress; postPartialBatches: boolean; shown?: number },
): Promise<{ state: 'finished' | 'running'; shown: number }> {
  const commandId = run.commandId;
  if (!commandId) return { state: 'running', shown: opts.shown ?? 0 };
  let results = await deps.runs.nodeResults(run.id);
  let progress = opts.progress;
  const expected = Math.max(run.nodes?.length ?? 0, 1);
  // An event has no command-wide view; ask SSM only when this could be the last node.
  if (!progress && results.length >= expected) progress = await commandsFor(deps, run).progress(commandId);
  const complete = progress !== undefined && isComplete(progress, results);
  const overdue = !complete && deps.clock.now().toISOString() > trackingDeadline(run);
  if (overdue) {
    progress ??= await commandsFor(deps, run).progress(commandId);
    results = await recordMissing(deps, run, progress, results);
  }
  const final = complete || overdue;

  if (batchesResults(run)) {
    if (final) await postGroups(deps, run, results);
  } else {
    const posted = await postResults(deps, run, results);
    if (!final && posted > 0 && opts.shown === undefined) {
      await redrawProgress(deps, run.id, { finished: results.length, counts: countOutcomes(results) });
      return { state: 'running', shown: results.length };
    }
  }
  if (final) {
    await finish(deps, run, results);
    return { state: 'finished', shown: results.length };
  }
  if (opts.shown !== undefined && results.length > opts.shown) {
    await redrawProgress(deps, run.id, { finished: results.length, counts: countOutcomes(results) });
    return { state: 'running', shown: results.length };
  }
  return { state: 'running', shown: opts.shown ?? 0 };
}

/** Every node SSM sent the command to has a recorded result, and SSM says the command is over. */
function isComplete(progress: CommandProgress, results: readonly NodeResult[]): boolean {
  const recorded = new Set(results.map((r) => r.nodeId));
  return progress.done && progress.invocations.every((inv) => recorded.has(inv.nodeId));
}

/** Past the deadline, nodes SSM still lists as on their way are recorded as having no result. */
async function recordMissing(
  deps: TrackDeps,
  run: CommandRun,
  progress: CommandProgress,
  results: NodeResult[],
): Promise<NodeResult[]> {
  const recorded = new Set(results.map((r) => r.nodeId));
  const missing = progress.invocations.filter((inv) => !recorded.has(inv.nodeId));
  if (missing.length === 0) return results;
  for (const inv of missing) {
    const nodeName = run.nodes?.find((n) => n.id === inv.nodeId)?.name ?? inv.nodeName;
    await deps.runs.recordNode(run.id, {
      nodeId: inv.nodeId,
      ...(nodeName ? { nodeName } : {}),
      outcome: 'no-result',
      status: inv.status,
      ...(inv.statusDetails ? { statusDetails: inv.statusDetails } : {}),
      stdout: '',
      stdoutChars: 0,
      stderr: '',
      stderrChars: 0,
    });
  }
  return deps.runs.nodeResults(run.id);
}

/** Claims and posts unposted results in the run's thread, one node per message. Returns how many were posted. */
async function postResults(
  deps: TrackDeps,
  run: CommandRun,
  results: readonly NodeResult[],
): Promise<number> {
  const unposted = results.filter((r) => r.postedAt === undefined);
  if (unposted.length === 0) return 0;
  if (!run.message) {
    // The message is posted at most once; a worker that died after claiming it leaves nothing to thread under.
    deps.logger.warn({ runId: run.id }, 'run has no message to post node results under');
    return 0;
  }
  const at = deps.clock.now().toISOString();
  let posted = 0;
  for (const result of unposted) {
    if (!(await deps.runs.claimNodePost(run.id, result.nodeId, at))) continue;
    await deps.runChat.postResults(run.message, { run, results: [result], batched: false });
    posted++;
  }
  return posted;
}

/**
 * A finished run on many nodes: its results grouped by identical result, claimed once for the whole
 * run (events and polling may both finish it), so each group is posted once and a run takes a handful
 * of messages instead of one per 10 nodes.
 */
async function postGroups(deps: TrackDeps, run: CommandRun, results: readonly NodeResult[]): Promise<void> {
  if (results.length === 0) return;
  if (!run.message) {
    deps.logger.warn({ runId: run.id }, 'run has no message to post node results under');
    return;
  }
  if (!(await deps.runs.claimEffect(run.id, 'result-groups', deps.clock.now().toISOString()))) return;
  await deps.runChat.postResultGroups(run.message, { run, groups: groupResults(results) });
}

async function finish(deps: TrackDeps, run: CommandRun, results: readonly NodeResult[]): Promise<void> {
  const counts = countOutcomes(results);
  const finishedAt = toIsoSeconds(deps.clock.now());
  const saved = await updateRun(deps.runs, run.id, (r) => {
    if (r.status !== 'running') return undefined;
    const next = moveRun(r, 'finished', { end: 'completed', finishedAt, counts });
    return next.ok ? next.value : undefined;
  });
  const target = deps.config.targets[run.target];
  // chat.update is idempotent: whichever path finished the run, the message ends on the summary.
  if (saved?.status === 'finished' && saved.message && target)
    await deps.runChat.updateRunMessage(saved.message, { run: saved, target });
  if (saved?.status === 'finished') await auditRun(deps, saved);
}

/** Re-reads the run so a message is never redrawn as running after another path finished it. */
async function redrawProgress(
  deps: TrackDeps,
  runId: string,
  progress: NonNullable<RunMessageView['progress']>,
): Promise<void> {
  const run = await deps.runs.get(runId);
  const target = run ? deps.config.targets[run.target] : undefined;
  if (!run?.message || !target) return;
  await deps.runChat.updateRunMessage(run.message, {
    run,
    target,
    ...(run.status === 'running' ? { progress } : {}),
  });
}
