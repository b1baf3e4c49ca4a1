import {
  batchesResults,
  classifyInvocation,
  type CommandRun,
  countOutcomes,
  cutOutput,
  moveRun,
  type NodeResult,
  RESULTS_PER_MESSAGE,
  trackingDeadline,
} from '../domain/command-run';
import { toIsoSeconds } from '../domain/grant';
import type { CommandProgress, InvocationResult, InvocationStatus } from '../ports/command-runner';
import { auditRun } from './audit';
import { forEachBounded } from './bounded';
import type { Deps } from './deps';
import { updateRun } from './run-updates';

export type TrackDeps = Pick<
  Deps,
  'config' | 'runs' | 'queue' | 'commands' | 'runChat' | 'chat' | 'clock' | 'logger' | 'runPolling'
>;

/**
 * One track-run job polls for at most `budgetMs`, then queues a fresh job: the Lambda worker has a
 * 300 s limit and takes up to 4 jobs per batch (serverless.yml), so 60 s each always fits. Backoff from
 * 1 s to 15 s keeps a quick `df -h` quick without polling a long job every second.
 */
export const DEFAULT_RUN_POLLING = { budgetMs: 60_000, firstDelayMs: 1_000, maxDelayMs: 15_000 };
/** GetCommandInvocation calls in flight at once: SSM throttles, and results arrive in bursts. */
const RESULT_CONCURRENCY = 4;

export type TrackOutcome = 'finished' | 'handed-over' | 'skipped';

/**
 * Worker job for a sent run: polls SSM with backoff, records each node's final result, posts it in the
 * run's thread once, keeps the run's message up to date, and finishes the run when every node has
 * ended or the command's deadline has passed. On Lambda the status-change events do the same work as
 * they arrive (recordInvocationEvent); this is the bounded fallback, and both claim every post.
 */
export async function trackRun(deps: TrackDeps, runId: string): Promise<TrackOutcome> {
  const polling = deps.runPolling ?? DEFAULT_RUN_POLLING;
  const started = deps.clock.now().getTime();
  let delay = polling.firstDelayMs;
  for (;;) {
    const run = await deps.runs.get(runId);
    if (run?.status !== 'running' || !run.commandId) return 'skipped';
    const progress = await deps.commands.progress(run.commandId);
    await collectResults(deps, run, run.commandId, progress.invocations);
    if ((await settle(deps, run, { progress, postPartialBatches: true })) === 'finished') return 'finished';
    const elapsed = deps.clock.now().getTime() - started;
    if (elapsed >= polling.budgetMs) {
      await deps.queue.enqueue({ kind: 'track-run', runId });
      return 'handed-over';
    }
    await deps.clock.sleep(Math.min(delay, polling.budgetMs - elapsed));
    delay = Math.min(delay * 2, polling.maxDelayMs);
  }
}

/** Fetches the output of every node SSM lists as ended that has no recorded result yet. */
async function collectResults(
  deps: TrackDeps,
  run: CommandRun,
  commandId: string,
  invocations: readonly InvocationStatus[],
): Promise<void> {
  const recorded = new Set((await deps.runs.nodeResults(run.id)).map((r) => r.nodeId));
  const ended = invocations.filter(
    (inv) => !recorded.has(inv.nodeId) && classifyInvocation(inv.status, inv.statusDetails) !== undefined,
  );
  await forEachBounded(ended, RESULT_CONCURRENCY, async (inv) => {
    const node = toNodeResult(run, await deps.commands.result(commandId, inv.nodeId));
    if (node) await deps.runs.recordNode(run.id, node);
  });
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
 * `postPartialBatches`: for a run on many nodes, post whatever has ended even if it does not fill a
 * message; events leave that to polling, so one event per node does not mean one message per node.
 */
export async function settle(
  deps: TrackDeps,
  run: CommandRun,
  opts: { progress?: CommandProgress; postPartialBatches: boolean },
): Promise<'finished' | 'running'> {
  const commandId = run.commandId;
  if (!commandId) return 'running';
  let results = await deps.runs.nodeResults(run.id);
  let progress = opts.progress;
  const expected = Math.max(run.nodes?.length ?? 0, 1);
  // An event has no command-wide view; ask SSM only when this could be the last node.
  if (!progress && results.length >= expected) progress = await deps.commands.progress(commandId);
  const complete = progress !== undefined && isComplete(progress, results);
  const overdue = !complete && deps.clock.now().toISOString() > trackingDeadline(run);
  if (overdue) {
    progress ??= await deps.commands.progress(commandId);
    results = await recordMissing(deps, run, progress, results);
  }
  const final = complete || overdue;

  const posted = await postResults(deps, run, results, final || opts.postPartialBatches);
  if (final) {
    await finish(deps, run, results);
    return 'finished';
  }
  if (posted > 0) await redrawProgress(deps, run.id, results);
  return 'running';
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

/**
 * Claims and posts unposted results in the run's thread: one node per message, or, on a run with more
 * than 20 nodes, up to 10 per message (domain/command-run.ts). Returns how many were posted.
 */
async function postResults(
  deps: TrackDeps,
  run: CommandRun,
  results: readonly NodeResult[],
  postPartial: boolean,
): Promise<number> {
  const batched = batchesResults(run);
  const size = batched ? RESULTS_PER_MESSAGE : 1;
  const unposted = results.filter((r) => r.postedAt === undefined);
  // Without postPartial only full messages go out; the remainder waits for the next round.
  const candidates = postPartial ? unposted : unposted.slice(0, unposted.length - (unposted.length % size));
  if (candidates.length === 0) return 0;
  if (!run.message) {
    // The message is posted at most once; a worker that died after claiming it leaves nothing to thread under.
    deps.logger.warn({ runId: run.id }, 'run has no message to post node results under');
    return 0;
  }
  const at = deps.clock.now().toISOString();
  const claimed: NodeResult[] = [];
  for (const result of candidates) {
    if (await deps.runs.claimNodePost(run.id, result.nodeId, at)) claimed.push(result);
  }
  for (let i = 0; i < claimed.length; i += size) {
    await deps.runChat.postResults(run.message, { run, results: claimed.slice(i, i + size), batched });
  }
  return claimed.length;
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
async function redrawProgress(deps: TrackDeps, runId: string, results: readonly NodeResult[]): Promise<void> {
  const run = await deps.runs.get(runId);
  const target = run ? deps.config.targets[run.target] : undefined;
  if (!run?.message || !target) return;
  const progress =
    run.status === 'running' ? { finished: results.length, counts: countOutcomes(results) } : undefined;
  await deps.runChat.updateRunMessage(run.message, { run, target, ...(progress ? { progress } : {}) });
}
