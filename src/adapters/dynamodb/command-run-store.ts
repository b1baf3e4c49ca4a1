import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  boolean,
  DeleteItemCommand,
  Entity,
  type FormattedItem,
  GetItemCommand,
  isConditionCheckFailed,
  item,
  list,
  map,
  number,
  PutItemCommand,
  QueryCommand,
  record,
  string,
  UpdateItemCommand,
} from 'dynamodb-toolbox';
import {
  type CommandRun,
  NODE_OUTCOMES,
  type NodeOutcome,
  type NodeResult,
  RUN_STATUSES,
} from '../../domain/command-run';
import type { MessageRef } from '../../domain/grant';
import type { CommandRunStore, CreateRunOutcome } from '../../ports/command-run-store';
import { createRequestKeys } from './request-keys';
import { createKeyturnTable, type KeyturnTable } from './table';

const messageRef = () => map({ channel: string(), ts: string() });
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
  const run = new Entity({
    name: 'CommandRun',
    table,
    timestamps: false,
    schema: item({
      id: string().key(),
      requestKey: string().optional(),
      snippet: string(),
      target: string(),
      params: record(string(), string()),
      command: string(),
      requester: string(),
      channel: string(),
      status: string().enum(...RUN_STATUSES),
      version: number(),
      requestedAt: string(),
      needsApproval: boolean(),
      approvals: list(map({ by: string(), at: string() })),
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
    }),
    computeKey: ({ id }) => ({ pk: `RUN#${id}`, sk: 'RUN' }),
  });

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
    }),
    computeKey: ({ runId, nodeId }) => ({ pk: `RUN#${runId}`, sk: `NODE#${nodeId}` }),
  });

  const effect = new Entity({
    name: 'RunEffect',
    table,
    timestamps: false,
    schema: item({ runId: string().key(), effect: string().key(), at: string() }),
    computeKey: ({ runId, effect }) => ({ pk: `RUN#${runId}`, sk: `EFFECT#${effect}` }),
  });

  const request = createRequestKeys(table, 'RUN');

  const command = new Entity({
    name: 'RunCommand',
    table,
    timestamps: false,
    schema: item({ commandId: string().key(), runId: string() }),
    computeKey: ({ commandId }) => ({ pk: `CMD#${commandId}`, sk: 'CMD' }),
  });

  return { run, node, effect, request, command };
}

type RunEntities = ReturnType<typeof createRunEntities>;

/** The byDay index attributes: the UTC day of the request, as the grant store writes them. */
export function runIndexKeys(run: Pick<CommandRun, 'requestedAt'>) {
  return { gsi2pk: `DAY#${run.requestedAt.slice(0, 10)}`, gsi2sk: run.requestedAt };
}

export function createDynamoCommandRunStore(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Items per Query page. Unset, DynamoDB pages at 1 MB; tests set it small to exercise paging. */
  pageSize?: number;
}): CommandRunStore {
  return new DynamoCommandRunStore(
    createRunEntities(createKeyturnTable(opts.documentClient, opts.tableName)),
    opts.pageSize,
  );
}

class DynamoCommandRunStore implements CommandRunStore {
  constructor(
    private readonly entities: RunEntities,
    private readonly pageSize: number | undefined,
  ) {}

  /**
   * Writes the run, then claims its request key. In this order a request item only ever names a run
   * that exists; a crash between the two leaves a queued run nobody was told about and no job for it,
   * so it is never sent.
   */
  async create(run: CommandRun): Promise<CreateRunOutcome> {
    const { entities } = this;
    const stored = await this.conditionalWrite(
      entities.run
        .build(PutItemCommand)
        .item({ ...run, ...runIndexKeys(run) })
        .options({ condition: { attr: 'id', exists: false } }),
    );
    if (!stored) return { ok: false, reason: 'id-taken' };
    if (run.requestKey === undefined) return { ok: true };

    const claim = await entities.request.claim(run.requestKey, run.id);
    if (claim.claimed) return { ok: true };
    const existing = claim.holder ? await this.get(claim.holder) : undefined;
    // Nobody has seen this run yet (the caller only announces it on ok), so it can go.
    await entities.run.build(DeleteItemCommand).key({ id: run.id }).send();
    if (!existing)
      throw new Error(`request ${run.requestKey} names run ${claim.holder}, which does not exist`);
    return { ok: false, reason: 'duplicate-request', existing };
  }

  // Strongly consistent: a conditional write may already have seen a newer version.
  async get(id: string): Promise<CommandRun | undefined> {
    const { Item } = await this.entities.run
      .build(GetItemCommand)
      .key({ id })
      .options({ consistent: true })
      .send();
    return Item === undefined ? undefined : toRun(Item);
  }

  async save(next: CommandRun, expectedVersion: number): Promise<'saved' | 'stale'> {
    const saved = await this.conditionalWrite(
      this.entities.run
        .build(PutItemCommand)
        .item({ ...next, ...runIndexKeys(next) })
        .options({ condition: { attr: 'version', eq: expectedVersion } }),
    );
    if (!saved) return 'stale';
    // Idempotent: the pointer for status-change events, rewritten with the same value on later saves.
    if (next.commandId !== undefined)
      await this.entities.command
        .build(PutItemCommand)
        .item({ commandId: next.commandId, runId: next.id })
        .send();
    return 'saved';
  }

  async findByCommandId(commandId: string): Promise<CommandRun | undefined> {
    const { Item } = await this.entities.command.build(GetItemCommand).key({ commandId }).send();
    return Item === undefined ? undefined : this.get(Item.runId);
  }

  async recordNode(runId: string, result: NodeResult): Promise<boolean> {
    const { postedAt: _ignored, ...fields } = result;
    return this.conditionalWrite(
      this.entities.node
        .build(PutItemCommand)
        .item({ ...fields, runId })
        .options({ condition: { attr: 'outcome', exists: false } }),
    );
  }

  async nodeResults(runId: string): Promise<NodeResult[]> {
    const { Items = [] } = await this.entities.node.table
      .build(QueryCommand)
      .entities(this.entities.node)
      .query({ partition: `RUN#${runId}`, range: { beginsWith: 'NODE#' } })
      .options({ consistent: true, maxPages: Number.POSITIVE_INFINITY, ...this.pageOption() })
      .send();
    return Items.map(toNodeResult);
  }

  async claimNodePost(runId: string, nodeId: string, at: string): Promise<boolean> {
    return this.conditionalWrite(
      this.entities.node
        .build(UpdateItemCommand)
        .item({ runId, nodeId, postedAt: at })
        // `outcome` exists: only a recorded result can be claimed (an update would otherwise create one).
        .options({
          condition: {
            and: [
              { attr: 'outcome', exists: true },
              { attr: 'postedAt', exists: false },
            ],
          },
        }),
    );
  }

  async claimEffect(runId: string, effect: string, at: string): Promise<boolean> {
    return this.conditionalWrite(
      this.entities.effect
        .build(PutItemCommand)
        .item({ runId, effect, at })
        .options({ condition: { attr: 'at', exists: false } }),
    );
  }

  async listByDay(day: string): Promise<CommandRun[]> {
    const { Items = [] } = await this.entities.run.table
      .build(QueryCommand)
      .entities(this.entities.run)
      .query({ index: 'byDay', partition: `DAY#${day}` })
      .options({ maxPages: Number.POSITIVE_INFINITY, ...this.pageOption() })
      .send();
    return Items.map(toRun);
  }

  private pageOption(): { limit?: number } {
    return this.pageSize === undefined ? {} : { limit: this.pageSize };
  }

  /** Runs a conditional write: false when its condition failed (the expected, lost-race case). */
  private async conditionalWrite(command: { send(): Promise<unknown> }): Promise<boolean> {
    try {
      await command.send();
      return true;
    } catch (error) {
      if (isConditionCheckFailed(error)) return false;
      throw error;
    }
  }
}

type StoredRun = FormattedItem<RunEntities['run']>;
type StoredNode = FormattedItem<RunEntities['node']>;

/** Rebuilds the domain value, so an optional absent when written stays absent rather than `undefined`. */
function toRun(stored: StoredRun): CommandRun {
  const { approvals, nodes, message, card, counts, params, ...rest } = stored;
  const run: CommandRun = {
    ...compact(rest),
    params: { ...params },
    approvals: approvals.map(({ by, at }) => ({ by, at })),
  };
  if (nodes !== undefined) run.nodes = nodes.map((n) => compact({ ...n }));
  if (message !== undefined) run.message = toMessageRef(message);
  if (card !== undefined) run.card = toMessageRef(card);
  if (counts !== undefined) run.counts = compact({ ...counts }) as Partial<Record<NodeOutcome, number>>;
  return run;
}

function toNodeResult(stored: StoredNode): NodeResult {
  const { runId: _runId, ...rest } = stored;
  return compact(rest);
}

function toMessageRef(stored: MessageRef): MessageRef {
  return { channel: stored.channel, ts: stored.ts };
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
