import type { CommandRun, NodeOutcome, NodeResult } from '../domain/command-run';
import type { MessageRef } from '../domain/grant';
import type { ResultGroup } from '../domain/result-groups';
import type { Target } from '../domain/target';

/** The run's message in the channel where `/run` was typed. `run.nodes` is the node snapshot. */
export interface RunMessageView {
  run: CommandRun;
  target: Target;
  /** While running: how many nodes have a final result, and how they ended when that is known. */
  progress?: { finished: number; counts?: Readonly<Record<NodeOutcome, number>> };
}

/** One thread reply: a single node's result, or several (`batched`) for a run on many nodes. */
export interface RunResultsView {
  run: CommandRun;
  results: readonly NodeResult[];
  batched: boolean;
}

/** Every result of a finished run on many nodes, grouped by identical result: a handful of thread replies. */
export interface RunGroupsView {
  run: CommandRun;
  groups: readonly ResultGroup[];
}

/** The approval card for a snippet with `approval: true`, in the requests channel. */
export interface RunApprovalView {
  run: CommandRun;
  target: Target;
}

/** Slack, as the Run Command use cases need it (separate from the grant's Chat port). */
export interface RunChat {
  postRunMessage(channel: string, view: RunMessageView): Promise<MessageRef>;
  updateRunMessage(ref: MessageRef, view: RunMessageView): Promise<void>;
  /** Posts one reply in the run message's thread. */
  postResults(thread: MessageRef, view: RunResultsView): Promise<void>;
  /**
   * Posts a finished run's grouped results in its thread, as few replies as Slack's limits allow
   * (50 blocks, 3,000 characters per section), paced to chat.postMessage's one post per second per channel.
   */
  postResultGroups(thread: MessageRef, view: RunGroupsView): Promise<void>;
  postApprovalCard(channel: string, view: RunApprovalView): Promise<MessageRef>;
  updateApprovalCard(ref: MessageRef, view: RunApprovalView): Promise<void>;
}
