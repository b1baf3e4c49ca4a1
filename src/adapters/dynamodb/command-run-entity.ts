import {
  boolean,
  Entity,
  type FormattedItem,
  item,
  list,
  map,
  number,
  record,
  string,
} from 'dynamodb-toolbox';
import {
  type CommandRun,
  NODE_OUTCOMES,
  type NodeOutcome,
  type NodeResult,
  RUN_STATUSES,
} from '../../domain/command-run';
import { createRequestKeys } from './request-keys';
import { approvalList, compact, messageRef, toApprovals, toMessageRef, writeId } from './stored-values';
import { byDayKeys, type KeyturnTable } from './table';

const outcomeCount = () => number().optional();

/**
 * The entities behind the run store, in Keyturn's single table (src/adapters/dynamodb/table.ts):
 *  - CommandRun  `RUN#<id>` / `RUN`, on the byDay index (`DAY#<YYYY-MM-DD UTC>` / requestedAt) for the digest;
 *  - NodeResult  `RUN#<id>` / `NODE#<nodeId>`: one item per node, so 200 nodes of output never meet
 *    DynamoDB's 400 KB item limit, and each is recorded and claimed with its own conditional write;
 *  - RunEffect   `RUN#<id>` / `EFFECT#<name>`: one-time side effects (the message, the card);
 *  - RunRequest  `RUNREQ#<Slack trigger_id>`: a retried `/run` request finds the run it already made;
 *  - RunCommand  `CMD#<SSM command id>`: status-change events carry only the command id.
 * Exported so tests can read what was stored; the app only sees the CommandRunStore port.
 */
export function createRunEntities(table: KeyturnTable) {
  return { ...createRunRecordEntities(table), ...createRunResultEntities(table) };
}

/**
 * The run, its request key and its command pointer: all the Slack listeners write (CommandRunRecords),
 * so the slack function builds only these (issue 13).
 */
export function createRunRecordEntities(table: KeyturnTable) {
  const run = new Entity({
    name: 'CommandRun',
    table,
    timestamps: false,
    schema: item({
      id: string().key(),
      requestKey: string().optional(),
      snippet: string(),
      target: string(),
      account: string().optional(),
      region: string().optional(),
      params: record(string(), string()),
      command: string(),
      requester: string(),
      channel: string(),
      status: string().enum(...RUN_STATUSES),
      version: number(),
      requestedAt: string(),
      needsApproval: boolean(),
      approvals: approvalList(),
      decidedBy: string().optional(),
      decidedAt: string().optional(),
      nodes: list(
        map({
          id: string(),
          name: string().optional(),
          ping: string().enum('Online', 'ConnectionLost', 'Inactive', 'Unknown'),
        }),
      ).optional(),
      message: messageRef().optional(),
      card: messageRef().optional(),
      comment: string(),
      deliveryTimeoutSeconds: number(),
      executionTimeoutSeconds: number().optional(),
      maxConcurrency: string().optional(),
      maxErrors: string().optional(),
      sendingAt: string().optional(),
      commandId: string().optional(),
      sentAt: string().optional(),
      expiresAt: string().optional(),
      finishedAt: string().optional(),
      end: string().enum('completed', 'no-nodes', 'no-online-nodes').optional(),
      failureReason: string().optional(),
      counts: map({
        succeeded: outcomeCount(),
        failed: outcomeCount(),
        'timed-out': outcomeCount(),
        'delivery-timed-out': outcomeCount(),
        undeliverable: outcomeCount(),
        cancelled: outcomeCount(),
        'no-result': outcomeCount(),
      }).optional(),
      simulated: boolean(),
      // Index attributes: required so no write leaves them out of sync, hidden so reads return the run.
      gsi2pk: string().hidden(),
      gsi2sk: string().hidden(),
      writeId: writeId(),
    }),
    computeKey: ({ id }) => ({ pk: `RUN#${id}`, sk: 'RUN' }),
  });

  const request = createRequestKeys(table, 'RUN');

  const command = new Entity({
    name: 'RunCommand',
    table,
    timestamps: false,
    schema: item({ commandId: string().key(), runId: string() }),
    computeKey: ({ commandId }) => ({ pk: `CMD#${commandId}`, sk: 'CMD' }),
  });

  return { run, request, command };
}

/** What the worker records as a run's nodes answer: their results, and one-time side effects. */
export function createRunResultEntities(table: KeyturnTable) {
  const node = new Entity({
    name: 'NodeResult',
    table,
    timestamps: false,
    schema: item({
      runId: string().key(),
      nodeId: string().key(),
      nodeName: string().optional(),
      outcome: string().enum(...NODE_OUTCOMES),
      status: string(),
      statusDetails: string().optional(),
      exitCode: number().optional(),
      startedAt: string().optional(),
      endedAt: string().optional(),
      stdout: string(),
      stdoutChars: number(),
      stderr: string(),
      stderrChars: number(),
      stdoutLocation: string().optional(),
      stderrLocation: string().optional(),
      postedAt: string().optional(),
      writeId: writeId(),
    }),
    computeKey: ({ runId, nodeId }) => ({ pk: `RUN#${runId}`, sk: `NODE#${nodeId}` }),
  });

  const effect = new Entity({
    name: 'RunEffect',
    table,
    timestamps: false,
    schema: item({ runId: string().key(), effect: string().key(), at: string(), writeId: writeId() }),
    computeKey: ({ runId, effect }) => ({ pk: `RUN#${runId}`, sk: `EFFECT#${effect}` }),
  });

  return { node, effect };
}

export type RunEntities = ReturnType<typeof createRunEntities>;
export type RunRecordEntities = ReturnType<typeof createRunRecordEntities>;
export type RunResultEntities = ReturnType<typeof createRunResultEntities>;

/** The byDay index attributes: the UTC day of the request, as grants are. */
export function runIndexKeys(run: Pick<CommandRun, 'requestedAt'>) {
  return byDayKeys(run.requestedAt);
}

type StoredRun = FormattedItem<RunEntities['run']>;
type StoredNode = FormattedItem<RunEntities['node']>;

/** Rebuilds the domain value, so an optional absent when written stays absent rather than `undefined`. */
export function toRun(stored: StoredRun): CommandRun {
  const { approvals, nodes, message, card, counts, params, ...rest } = stored;
  const run: CommandRun = {
    ...compact(rest),
    params: { ...params },
    approvals: toApprovals(approvals),
  };
  if (nodes !== undefined) run.nodes = nodes.map((n) => compact({ ...n }));
  if (message !== undefined) run.message = toMessageRef(message);
  if (card !== undefined) run.card = toMessageRef(card);
  if (counts !== undefined) run.counts = compact({ ...counts }) as Partial<Record<NodeOutcome, number>>;
  return run;
}

export function toNodeResult(stored: StoredNode): NodeResult {
  const { runId: _runId, ...rest } = stored;
  return compact(rest);
}
