import { classifyInvocation, isRunsCommand } from '../domain/command-run';
import { RUN_SHELL_DOCUMENT } from '../ports/command-runner';
import { settle, type TrackDeps, toNodeResult } from './track-run';
import { commandsFor, placeOf } from './places';

/**
 * EventBridge's "EC2 Command Invocation Status-change Notification" (source `aws.ssm`), one per node and
 * status change (FACTS.md "Run Command"). Only the fields Keyturn reads; SSM sends no output here.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html
 */
export interface CommandInvocationEvent {
  source?: string;
  'detail-type'?: string;
  time?: string;
  region?: string;
  account?: string;
  resources?: string[];
  detail: {
    'command-id': string;
    'instance-id': string;
    status: string;
    'document-name'?: string;
    'requested-date-time'?: string;
  };
}

export type InvocationEventOutcome =
  /**
   * Not a command Keyturn sent (other tools use Run Command too: another document, or a command id
   * Keyturn never stored), or not one it has recorded yet.
   */
  | 'not-ours'
  /** The run is already finished (or never started tracking). */
  | 'not-running'
  /** The node is still on its way; only final statuses are recorded. */
  | 'in-progress'
  | 'already-recorded'
  | 'recorded';

/**
 * A node's status changed: record its final result and post it in the run's thread (claimed, so the
 * polling fallback never posts it again; a run on more than 20 nodes posts its results grouped when
 * it finishes), and finish the run if it was the last node. An event that
 * beats the stored command id (a fast node) is left to polling, which lists every invocation anyway.
 */
export async function recordInvocationEvent(
  deps: TrackDeps,
  event: CommandInvocationEvent,
): Promise<InvocationEventOutcome> {
  const commandId = event.detail?.['command-id'];
  const nodeId = event.detail?.['instance-id'];
  // Decided from the event alone, before any read: other tools' Run Command traffic in the region
  // (patching, inventory, State Manager) costs no DynamoDB call. The rule in serverless.yml already
  // passes only AWS-RunShellScript with a final status; this holds wherever the event comes from.
  if (!commandId || !nodeId || event.detail['document-name'] !== RUN_SHELL_DOCUMENT) return 'not-ours';
  if (classifyInvocation(event.detail.status) === undefined) return 'in-progress';
  // One GetItem on the command id answers for another tool's shell commands.
  const run = await deps.runs.findByCommandId(commandId);
  if (!run) return 'not-ours';
  // The command runs in the run's own account and region, and its result is read there; an event
  // from anywhere else (a member account's forwarding rule) is about some other command.
  const place = placeOf(deps.config, run);
  if (
    (typeof event.account === 'string' && event.account !== place.accountId) ||
    (typeof event.region === 'string' && event.region !== place.region)
  ) {
    deps.logger.warn(
      { runId: run.id, commandId, account: event.account, region: event.region },
      "a command event from another account or region than the run's; ignored",
    );
    return 'not-ours';
  }
  if (run.status !== 'running') return 'not-running';
  if ((await deps.runs.nodeResults(run.id)).some((r) => r.nodeId === nodeId)) return 'already-recorded';

  const result = await commandsFor(deps, run).result(commandId, nodeId);
  // A stored run naming this command id is not enough (issue 11): the command must say it is the run's.
  if (!isRunsCommand(run, result.comment)) {
    deps.logger.warn(
      { runId: run.id, commandId },
      "a run names a command it did not send; its result is not the run's",
    );
    return 'not-ours';
  }
  const node = toNodeResult(run, result);
  // GetCommandInvocation may lag the event by a moment; polling picks the node up then.
  if (!node) return 'in-progress';
  if (!(await deps.runs.recordNode(run.id, node))) return 'already-recorded';
  await settle(deps, run, { postPartialBatches: false });
  return 'recorded';
}
