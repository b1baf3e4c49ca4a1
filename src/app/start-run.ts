import { type CommandRun, moveRun, type RunEnd } from '../domain/command-run';
import { toIsoSeconds } from '../domain/grant';
import { countOnline, type ManagedNode } from '../domain/node';
import { checkRunAuthority, describeRunAuthorityRefusal } from '../domain/run-authority';
import type { Target } from '../domain/target';
import { CommandRunnerError, RUN_SHELL_DOCUMENT, type SendCommandRequest } from '../ports/command-runner';
import { judgeWithGroups } from './authority';
import { auditRun } from './audit';
import type { Deps } from './deps';
import { updateRun } from './run-updates';
import { answer, decideAndSave, type SaveStep, saveThen } from './decide-and-save';
import { commandsFor, fleetFor, placeOf } from './places';

export type StartRunOutcome =
  | 'awaiting-approval'
  /** This worker sent the command. */
  | 'sent'
  /** The command had been sent by a worker that died before storing its id; found and adopted. */
  | 'adopted'
  /** No node carries the tags, or none is online: nothing was sent, and the message says so. */
  | 'nothing-to-run'
  | 'send-failed'
  /** Nothing (more) for this job to do: closed, already sent, or another worker is sending it. */
  | 'skipped';

type StartDeps = Pick<
  Deps,
  'config' | 'runs' | 'grants' | 'queue' | 'aws' | 'runChat' | 'chat' | 'clock' | 'logger'
>;

/**
 * A worker that claimed a run longer ago than this and never stored a command id has died: the next
 * delivery of the job looks the command up in SSM. Longer than a SendCommand can take, retries included.
 */
export const SEND_CLAIM_MS = 2 * 60_000;
/** After an answer lost in transit, how long to look for the command in SSM before calling it not sent. */
const LOOKUP_DELAYS_MS = [2_000, 5_000, 10_000];
const MAX_RACES = 5;

/**
 * Worker job that moves a run on from wherever it stands: look up the target's nodes, post the run's
 * message (and approval card) once, then, once the run is queued, send it. Exactly one SendCommand per
 * run however often this runs and however many workers run it at once: the send is claimed with a
 * conditional write (queued → sending) and only the claimant calls SSM.
 */
export async function startRun(deps: StartDeps, runId: string): Promise<StartRunOutcome> {
  let run = await deps.runs.get(runId);
  if (!run) return 'skipped';
  const target = deps.config.targets[run.target];
  if (!target) return failOpenRun(deps, run, `target ${run.target} is no longer in the configuration`);

  if (run.status === 'queued') {
    // The stored run is not evidence enough (issue 11): derive it again before posting anything for it.
    const refusal = await authorityRefusal(deps, run, target);
    if (refusal !== undefined) return refuseRun(deps, run, refusal);
  }

  if ((run.status === 'awaiting-approval' || run.status === 'queued') && !run.nodes) {
    // SSM resolves the tags itself when the command is sent; this snapshot is for the message and the card.
    const nodes = await fleetFor(deps, run).nodesTagged(target.tags);
    run = (await updateRun(deps.runs, run.id, (r) => (r.nodes ? undefined : { ...r, nodes }))) ?? run;
  }
  if (run.status === 'queued') {
    const end = nothingToRun(run.nodes ?? []);
    if (end) run = await finishUnsent(deps, run, end);
  }
  run = await showMessage(deps, run, target);
  if (run.needsApproval) run = await showCard(deps, run, target);
  // Denied, or finished with nowhere to run: this job is the one that shows it, so it records it too.
  await auditRun(deps, run);

  switch (run.status) {
    case 'awaiting-approval':
      return 'awaiting-approval';
    case 'queued':
      return send(deps, run, target);
    case 'sending':
      return recover(deps, run);
    case 'finished':
      return run.end === 'completed' ? 'skipped' : 'nothing-to-run';
    default:
      return 'skipped';
  }
}

function nothingToRun(nodes: readonly ManagedNode[]): RunEnd | undefined {
  if (nodes.length === 0) return 'no-nodes';
  // Offline nodes would only time out on delivery: say so now instead of making the channel wait.
  if (countOnline(nodes).online === 0) return 'no-online-nodes';
  return undefined;
}

async function finishUnsent(deps: StartDeps, run: CommandRun, end: RunEnd): Promise<CommandRun> {
  const at = toIsoSeconds(deps.clock.now());
  const saved = await updateRun(deps.runs, run.id, (r) => {
    if (r.status !== 'queued') return undefined;
    const next = moveRun(r, 'finished', { end, finishedAt: at, counts: {} });
    return next.ok ? next.value : undefined;
  });
  return saved ?? run;
}

/**
 * Posts the run's message once (a claimed effect, so two workers never post two), or redraws it for
 * the states this job owns; once the command is sent, tracking redraws it with progress.
 */
async function showMessage(deps: StartDeps, run: CommandRun, target: Target): Promise<CommandRun> {
  if (run.message) {
    if (
      run.status !== 'running' &&
      run.status !== 'sending' &&
      !(run.status === 'finished' && run.end === 'completed')
    )
      await deps.runChat.updateRunMessage(run.message, { run, target });
    return run;
  }
  if (!(await deps.runs.claimEffect(run.id, 'message', deps.clock.now().toISOString()))) return run;
  const message = await deps.runChat.postRunMessage(run.channel, { run, target });
  const saved = await updateRun(deps.runs, run.id, (r) => (r.message ? undefined : { ...r, message }));
  // A decision can land between posting and storing the reference: redraw from the stored run.
  if (saved && saved.status !== run.status)
    await deps.runChat.updateRunMessage(message, { run: saved, target });
  return saved ?? run;
}

/** The approval card in the requests channel: posted once, then redrawn after every decision. */
async function showCard(deps: StartDeps, run: CommandRun, target: Target): Promise<CommandRun> {
  if (run.card) {
    await deps.runChat.updateApprovalCard(run.card, { run, target });
    return run;
  }
  if (!(await deps.runs.claimEffect(run.id, 'card', deps.clock.now().toISOString()))) return run;
  const card = await deps.runChat.postApprovalCard(deps.config.slack.requestsChannel, { run, target });
  const saved = await updateRun(deps.runs, run.id, (r) => (r.card ? undefined : { ...r, card }));
  if (saved && saved.status !== run.status)
    await deps.runChat.updateApprovalCard(card, { run: saved, target });
  return saved ?? run;
}

async function send(deps: StartDeps, queued: CommandRun, target: Target): Promise<StartRunOutcome> {
  return decideAndSave(
    deps.runs,
    queued.id,
    async (run): Promise<SaveStep<CommandRun, StartRunOutcome>> => {
      // Another worker claimed it, or bookkeeping (a message reference) moved the version: look again.
      if (run?.status !== 'queued') return answer<StartRunOutcome>('skipped');
      // Checked again on the very record the claim writes and the send uses: the one checked before
      // the message was posted may have been rewritten in the table since (issue 11).
      const refusal = await authorityRefusal(deps, run, target);
      if (refusal !== undefined) return answer(await refuseRun(deps, run, refusal));
      const next = moveRun(run, 'sending', { sendingAt: deps.clock.now().toISOString() });
      if (!next.ok) return answer<StartRunOutcome>('skipped');
      return saveThen(next.value, (claimed) => sendClaimed(deps, claimed, target));
    },
    { attempts: MAX_RACES, exhausted: () => 'skipped', current: queued },
  );
}

/** Sends a run this worker claimed (moved to sending), once. */
async function sendClaimed(deps: StartDeps, claimed: CommandRun, target: Target): Promise<StartRunOutcome> {
  try {
    const sent = await commandsFor(deps, claimed).sendCommand(sendRequest(deps, claimed, target));
    await markRunning(deps, claimed.id, sent.commandId, sent.expiresAt);
    return 'sent';
  } catch (error) {
    if (!(error instanceof CommandRunnerError)) throw error;
    if (error.sent === 'no' && error.retryable) {
      // Throttled: SSM did not take it, so release the claim and let the job's retry send it.
      await updateRun(deps.runs, claimed.id, (r) => {
        const next = r.status === 'sending' && !r.commandId ? moveRun(r, 'queued') : undefined;
        return next?.ok ? next.value : undefined;
      });
      throw error;
    }
    if (error.sent === 'no')
      return failSending(deps, claimed.id, `SSM refused the command: ${error.code}: ${error.message}`);
    return lookForLostCommand(deps, claimed, error);
  }
}

/** Why the run, as given, does not hold up against the configuration, or undefined when it does. */
async function authorityRefusal(
  deps: StartDeps,
  run: CommandRun,
  target: Target,
): Promise<string | undefined> {
  const { config } = deps;
  const grants = await deps.grants.listByRequester(run.requester);
  const authority = await judgeWithGroups(deps, target, (groups) =>
    checkRunAuthority(run, {
      people: config.people,
      targets: config.targets,
      snippets: config.snippets,
      grants,
      groups,
      home: { accountId: config.aws.accountId, region: config.aws.region },
    }),
  );
  return authority.outcome === 'refuse' ? describeRunAuthorityRefusal(authority) : undefined;
}

/** The SendCommand parameters for a run: everything comes from the run as stored and the target's tags. */
export function sendRequest(deps: Pick<Deps, 'config'>, run: CommandRun, target: Target): SendCommandRequest {
  // The bucket and log group are the home account's: a member account's nodes may not write there, and
  // people would look for the output in the wrong account. Its runs keep what SSM itself keeps.
  const home = placeOf(deps.config, run).accountId === deps.config.aws.accountId;
  const output = home ? deps.config.commandOutput : undefined;
  return {
    documentName: RUN_SHELL_DOCUMENT,
    targetTags: target.tags,
    commands: [run.command],
    deliveryTimeoutSeconds: run.deliveryTimeoutSeconds,
    ...(run.executionTimeoutSeconds !== undefined
      ? { executionTimeoutSeconds: run.executionTimeoutSeconds }
      : {}),
    ...(run.maxConcurrency !== undefined ? { maxConcurrency: run.maxConcurrency } : {}),
    ...(run.maxErrors !== undefined ? { maxErrors: run.maxErrors } : {}),
    comment: run.comment,
    ...(output && (output.s3Bucket || output.cloudWatchLogGroup) ? { output } : {}),
  };
}

async function markRunning(
  deps: StartDeps,
  runId: string,
  commandId: string,
  expiresAt: string | undefined,
  sentAt: string = toIsoSeconds(deps.clock.now()),
): Promise<void> {
  const saved = await updateRun(deps.runs, runId, (r) => {
    if (r.status !== 'sending') return undefined;
    const next = moveRun(r, 'running', { commandId, sentAt, ...(expiresAt ? { expiresAt } : {}) });
    return next.ok ? next.value : undefined;
  });
  if (saved?.commandId !== commandId) {
    // Only a worker that took over a stale claim could have moved it; it found this same command.
    deps.logger.warn(
      { runId, commandId, stored: saved?.commandId },
      'run moved on while its command was sent',
    );
    return;
  }
  await auditRun(deps, saved);
  await deps.queue.enqueue({ kind: 'track-run', runId });
}

/**
 * SendCommand's answer was lost (timeout, connection reset, 5xx): the command may be running. Look it
 * up by its comment for a little while; found, it is tracked like any other; never found, it did not run.
 */
async function lookForLostCommand(
  deps: StartDeps,
  run: CommandRun,
  error: CommandRunnerError,
): Promise<StartRunOutcome> {
  const since = lookupStart(run);
  for (const delay of [0, ...LOOKUP_DELAYS_MS]) {
    if (delay > 0) await deps.clock.sleep(delay);
    const found = await commandsFor(deps, run).findCommand(run.comment, since);
    if (found) {
      const sentAt = run.sendingAt ? toIsoSeconds(new Date(run.sendingAt)) : undefined;
      await markRunning(deps, run.id, found, undefined, sentAt);
      return 'adopted';
    }
  }
  return failSending(
    deps,
    run.id,
    `SSM did not answer whether it took the command (${error.code}), and Run Command history has no command with this run's comment, so nothing ran`,
  );
}

/** A run left in `sending`: another worker is sending it now, or died doing so. */
async function recover(deps: StartDeps, run: CommandRun): Promise<StartRunOutcome> {
  const claimedAt = run.sendingAt ?? run.requestedAt;
  if (deps.clock.now().getTime() - Date.parse(claimedAt) < SEND_CLAIM_MS) return 'skipped';
  // Renew the claim first, so two late redeliveries do not both decide the run's fate.
  const renewed = { ...run, sendingAt: deps.clock.now().toISOString(), version: run.version + 1 };
  if ((await deps.runs.save(renewed, run.version)) === 'stale') return 'skipped';
  const found = await commandsFor(deps, run).findCommand(run.comment, lookupStart(run));
  if (found) {
    await markRunning(deps, run.id, found, undefined, toIsoSeconds(new Date(claimedAt)));
    return 'adopted';
  }
  return failSending(
    deps,
    run.id,
    "the worker sending it stopped before recording the command, and Run Command history has no command with this run's comment, so nothing ran",
  );
}

/**
 * SSM's InvokedAfter filter: from the request (a renewed claim moves `sendingAt` on), with a minute of
 * slack for clock differences between Keyturn and SSM.
 */
function lookupStart(run: CommandRun): string {
  return new Date(Date.parse(run.requestedAt) - 60_000).toISOString();
}

async function failSending(deps: StartDeps, runId: string, why: string): Promise<StartRunOutcome> {
  const saved = await updateRun(deps.runs, runId, (r) => {
    const next =
      r.status === 'sending'
        ? moveRun(r, 'failed', { failureReason: why, finishedAt: toIsoSeconds(deps.clock.now()) })
        : undefined;
    return next?.ok ? next.value : undefined;
  });
  const target = saved ? deps.config.targets[saved.target] : undefined;
  if (saved?.status === 'failed' && saved.message && target)
    await deps.runChat.updateRunMessage(saved.message, { run: saved, target });
  if (saved?.status === 'failed') await auditRun(deps, saved);
  return 'send-failed';
}

/** A run whose target left the configuration cannot be sent: close it and say so where it was asked. */
async function failOpenRun(deps: StartDeps, run: CommandRun, why: string): Promise<StartRunOutcome> {
  if (run.status !== 'awaiting-approval' && run.status !== 'queued') return 'skipped';
  const next = moveRun(run, 'failed', { failureReason: why, finishedAt: toIsoSeconds(deps.clock.now()) });
  if (next.ok && (await deps.runs.save(next.value, run.version)) === 'saved')
    await auditRun(deps, next.value);
  deps.logger.warn({ runId: run.id, target: run.target }, why);
  return 'send-failed';
}

/**
 * A queued run that does not hold up against the configuration: failed in one conditional write,
 * nothing sent, the audit channel told. Its message is redrawn only if Keyturn had posted one: the
 * stored channel is part of what cannot be trusted.
 */
async function refuseRun(deps: StartDeps, run: CommandRun, reason: string): Promise<StartRunOutcome> {
  const why = `refused by the worker: ${reason}`;
  const saved = await updateRun(deps.runs, run.id, (r) => {
    const next =
      r.status === 'queued'
        ? moveRun(r, 'failed', { failureReason: why, finishedAt: toIsoSeconds(deps.clock.now()) })
        : undefined;
    return next?.ok ? next.value : undefined;
  });
  if (saved?.status !== 'failed') return 'skipped';
  if (!(await deps.runs.claimEffect(run.id, 'audit:refused', deps.clock.now().toISOString())))
    return 'send-failed';
  deps.logger.warn({ runId: run.id, reason }, 'refused to send a run that does not hold up');
  await deps.chat.postAudit(deps.config.slack.auditChannel, { kind: 'run-refused', run: saved, reason });
  const target = deps.config.targets[saved.target];
  if (saved.message && target) await deps.runChat.updateRunMessage(saved.message, { run: saved, target });
  return 'send-failed';
}
