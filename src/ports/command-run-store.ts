import type { CommandRun, NodeResult } from '../domain/command-run';

export type CreateRunOutcome =
  | { ok: true }
  /** A run with the same request key exists: Slack retried the request. */
  | { ok: false; reason: 'duplicate-request'; existing: CommandRun }
  | { ok: false; reason: 'id-taken' };

/**
 * A run's own record, all the Slack listeners touch (create on `/run`, decide on a click): the slack
 * function's run store carries nothing more (issue 13). Every write is conditional.
 */
export interface CommandRunRecords {
  /** Stores a new run unless its id is taken or another run has its `requestKey`. */
  create(run: CommandRun): Promise<CreateRunOutcome>;
  get(id: string): Promise<CommandRun | undefined>;
  /** Writes `next` whole only if the stored run's version is still `expectedVersion`. */
  save(next: CommandRun, expectedVersion: number): Promise<'saved' | 'stale'>;
}

/** Durable command runs. Every write is conditional: a lost race is reported, never silently applied. */
export interface CommandRunStore extends CommandRunRecords {
  /** The run that sent this SSM command, for status-change events that carry only the command id. */
  findByCommandId(commandId: string): Promise<CommandRun | undefined>;
  /** Records a node's final result once; false when one is already recorded (it is not replaced). */
  recordNode(runId: string, result: NodeResult): Promise<boolean>;
  /** Every recorded node result of a run. */
  nodeResults(runId: string): Promise<NodeResult[]>;
  /** Claims posting a recorded node result (sets its `postedAt`); false when already claimed or not recorded. */
  claimNodePost(runId: string, nodeId: string, at: string): Promise<boolean>;
  /**
   * Claims a one-time side effect of a run (posting its message or approval card); false when it was
   * already claimed, so retries and redeliveries never repeat it.
   */
  claimEffect(runId: string, effect: string, at: string): Promise<boolean>;
  /** Runs requested on a UTC day (`YYYY-MM-DD`), oldest first, through the byDay index: for the digest. */
  listByDay(day: string): Promise<CommandRun[]>;
}
