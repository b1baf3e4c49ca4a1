import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from 'dynamodb-toolbox';
import type { CommandRun, NodeResult } from '../../domain/command-run';
import type { CommandRunRecords, CommandRunStore, CreateRunOutcome } from '../../ports/command-run-store';
import {
  createRunRecordEntities,
  createRunResultEntities,
  type RunRecordEntities,
  type RunResultEntities,
  runIndexKeys,
  toNodeResult,
  toRun,
} from './command-run-entity';
import {
  claimOnce,
  conditionHeld,
  queryAll,
  type StoreOptions,
  storesWrite,
  versionedRecords,
} from './entity-store';
import { WRITE_ID } from './stored-values';
import { createKeyturnTable } from './table';

/** The runs' records only: the slack function's run store, which builds no node-result entities (issue 13). */
export function createDynamoRunRecords(opts: StoreOptions): CommandRunRecords {
  return new DynamoRunRecords(
    createRunRecordEntities(createKeyturnTable(opts.documentClient, opts.tableName)),
  );
}

export function createDynamoCommandRunStore(opts: StoreOptions): CommandRunStore {
  const table = createKeyturnTable(opts.documentClient, opts.tableName);
  return new DynamoCommandRunStore(
    createRunRecordEntities(table),
    createRunResultEntities(table),
    opts.pageSize,
  );
}

class DynamoRunRecords implements CommandRunRecords {
  private readonly runs;

  constructor(protected readonly entities: RunRecordEntities) {
    this.runs = versionedRecords(entities.run, {
      toStored: (run: CommandRun) => ({ ...run, ...runIndexKeys(run) }),
      fromStored: toRun,
    });
  }

  /**
   * Writes the run, then claims its request key. In this order a request item only ever names a run
   * that exists; a crash between the two leaves a queued run nobody was told about and no job for it,
   * so it is never sent.
   */
  async create(run: CommandRun): Promise<CreateRunOutcome> {
    const { entities } = this;
    if (!(await this.runs.putNew(run, 'id'))) return { ok: false, reason: 'id-taken' };
    if (run.requestKey === undefined) return { ok: true };

    const claim = await entities.request.claimOrWithdraw(run.requestKey, run.id, async () => {
      await entities.run.build(DeleteItemCommand).key({ id: run.id }).send();
    });
    if (claim.claimed) return { ok: true };
    const existing = claim.holder ? await this.get(claim.holder) : undefined;
    if (!existing)
      throw new Error(`request ${run.requestKey} names run ${claim.holder}, which does not exist`);
    return { ok: false, reason: 'duplicate-request', existing };
  }

  // Strongly consistent: a conditional write may already have seen a newer version.
  get(id: string): Promise<CommandRun | undefined> {
    return this.runs.get({ id });
  }

  async save(next: CommandRun, expectedVersion: number): Promise<'saved' | 'stale'> {
    if ((await this.runs.save(next, expectedVersion)) === 'stale') return 'stale';
    // Idempotent: the pointer for status-change events, rewritten with the same value on later saves.
    if (next.commandId !== undefined)
      await this.entities.command
        .build(PutItemCommand)
        .item({ commandId: next.commandId, runId: next.id })
        .send();
    return 'saved';
  }
}

class DynamoCommandRunStore extends DynamoRunRecords implements CommandRunStore {
  constructor(
    records: RunRecordEntities,
    private readonly results: RunResultEntities,
    private readonly pageSize: number | undefined,
  ) {
    super(records);
  }

  async findByCommandId(commandId: string): Promise<CommandRun | undefined> {
    const { Item } = await this.entities.command.build(GetItemCommand).key({ commandId }).send();
    return Item === undefined ? undefined : this.get(Item.runId);
  }

  recordNode(runId: string, result: NodeResult): Promise<boolean> {
    const { postedAt: _ignored, ...fields } = result;
    return claimOnce(this.results.node, { ...fields, runId }, 'outcome');
  }

  async nodeResults(runId: string): Promise<NodeResult[]> {
    const stored = await queryAll(
      this.results.node,
      { partition: `RUN#${runId}`, range: { beginsWith: 'NODE#' } },
      { pageSize: this.pageSize, consistent: true },
    );
    return stored.map(toNodeResult);
  }

  claimNodePost(runId: string, nodeId: string, at: string): Promise<boolean> {
    const { node } = this.results;
    const id = randomUUID();
    return conditionHeld(
      node
        .build(UpdateItemCommand)
        .item({ runId, nodeId, postedAt: at, [WRITE_ID]: id })
        // `outcome` exists: only a recorded result can be claimed (an update would otherwise create one).
        .options({
          condition: {
            and: [
              { attr: 'outcome', exists: true },
              { attr: 'postedAt', exists: false },
            ],
          },
        }),
      // A retry of a claim whose answer was lost: the claim is this one if its write id is stored.
      () => storesWrite(node, { runId, nodeId }, id),
    );
  }

  claimEffect(runId: string, effect: string, at: string): Promise<boolean> {
    return claimOnce(this.results.effect, { runId, effect, at }, 'at');
  }

  async listByDay(day: string): Promise<CommandRun[]> {
    const stored = await queryAll(
      this.entities.run,
      { index: 'byDay', partition: `DAY#${day}` },
      { pageSize: this.pageSize },
    );
    return stored.map(toRun);
  }
}
