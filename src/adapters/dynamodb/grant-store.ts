import { DeleteItemCommand } from 'dynamodb-toolbox';
import { type Grant, type GrantStatus, isOpen } from '../../domain/grant';
import type { CreateGrantOutcome, GrantStore } from '../../ports/grant-store';
import {
  claimOnce,
  conditionHeld,
  getConsistent,
  putIf,
  queryAll,
  type StoreOptions,
  versionedRecords,
} from './entity-store';
import { createGrantEntities, type GrantEntities, grantIndexKeys, toGrant } from './grant-entity';
import { createKeyturnTable } from './table';

/**
 * How often `create` re-reads the open slot after losing a race for it. Each retry means another
 * writer changed the slot in between, so a handful is plenty; running out means something is
 * rewriting the slot in a loop, which is a bug worth surfacing rather than spinning on.
 */
const MAX_SLOT_ATTEMPTS = 5;

export class GrantStoreContentionError extends Error {
  readonly code = 'grant-store-contention';
  override readonly name = 'GrantStoreContentionError';
  constructor(requester: string, target: string) {
    super(`open slot for ${requester} on ${target} kept changing during ${MAX_SLOT_ATTEMPTS} attempts`);
  }
}

export function createDynamoGrantStore(opts: StoreOptions): GrantStore {
  const entities = createGrantEntities(createKeyturnTable(opts.documentClient, opts.tableName));
  return new DynamoGrantStore(entities, opts.pageSize);
}

class DynamoGrantStore implements GrantStore {
  private readonly grants;

  constructor(
    private readonly entities: GrantEntities,
    private readonly pageSize: number | undefined,
  ) {
    this.grants = versionedRecords(entities.grant, {
      toStored: (grant: Grant) => ({ ...grant, ...grantIndexKeys(grant) }),
      fromStored: toGrant,
    });
  }

  /**
   * Writes the grant first, then claims the requester+target slot for it. This order (rather than
   * slot first) is what makes the guard hold under concurrency: a slot only ever names a grant
   * that is already stored, so a slot whose grant is missing or closed is genuinely abandoned and
   * safe to take over. With the slot written first, a racer could read the slot before its
   * owner's grant landed, mistake it for a crash leftover and take it over, opening two grants.
   * The cost: a crash between the two writes leaves a pending grant with no slot and no card.
   * Nobody can act on it; it shows up under STATUS#pending until something lapses it.
   */
  async create(grant: Grant): Promise<CreateGrantOutcome> {
    const { openSlot, request } = this.entities;
    if (!(await this.grants.putNew(grant, 'id'))) return { ok: false, reason: 'id-taken' };
    // Before the slot: a replay after the first request was cancelled would find the slot free.
    if (grant.requestKey !== undefined) {
      const claim = await request.claimOrWithdraw(grant.requestKey, grant.id, () => this.withdraw(grant));
      if (!claim.claimed) {
        const existing = claim.holder ? await this.get(claim.holder) : undefined;
        return { ok: false, reason: 'duplicate-request', ...(existing ? { existing } : {}) };
      }
    }

    const slotKey = { requester: grant.requester, target: grant.target };
    const slot = { ...slotKey, grantId: grant.id };
    for (let attempt = 0; attempt < MAX_SLOT_ATTEMPTS; attempt++) {
      if (await claimOnce(openSlot, slot, 'grantId')) return { ok: true };
      const held = await getConsistent(openSlot, slotKey);
      // Freed between our write and read: try to claim it again.
      if (held === undefined) continue;
      const holder = await this.get(held.grantId);
      if (holder !== undefined && isOpen(holder.status)) {
        await this.withdraw(grant);
        return { ok: false, reason: 'open-grant-exists', existing: holder };
      }
      // The holder is closed (its save crashed before releasing the slot) or gone: take it over,
      // unless someone else does first, in which case look again.
      if (await putIf(openSlot, slot, { attr: 'grantId', eq: held.grantId })) return { ok: true };
    }
    throw new GrantStoreContentionError(grant.requester, grant.target);
  }

  // Strongly consistent: an eventually consistent read could miss a version or a slot holder that
  // a conditional write already saw, and make create take over a slot that is still held.
  get(id: string): Promise<Grant | undefined> {
    return this.grants.get({ id });
  }

  async save(next: Grant, expectedVersion: number): Promise<'saved' | 'stale'> {
    if ((await this.grants.save(next, expectedVersion)) === 'stale') return 'stale';
    if (!isOpen(next.status)) {
      // Only release the slot if it is still ours: a takeover may already have handed it on.
      await conditionHeld(
        this.entities.openSlot
          .build(DeleteItemCommand)
          .key({ requester: next.requester, target: next.target })
          .options({ condition: { attr: 'grantId', eq: next.id } }),
      );
    }
    return 'saved';
  }

  claimEffect(grantId: string, effect: string, at: string): Promise<boolean> {
    return claimOnce(this.entities.effect, { grantId, effect, at }, 'at');
  }

  async claimRequest(requestKey: string, grantId: string): Promise<boolean> {
    return (await this.entities.request.claim(requestKey, grantId)).claimed;
  }

  async listByStatus(status: GrantStatus, opts: { dueBy?: string } = {}): Promise<Grant[]> {
    const stored = await queryAll(
      this.entities.grant,
      {
        index: 'byStatus',
        partition: `STATUS#${status}`,
        ...(opts.dueBy === undefined ? {} : { range: { lte: opts.dueBy } }),
      },
      { pageSize: this.pageSize },
    );
    return stored.map(toGrant);
  }

  async listByRequester(requester: string): Promise<Grant[]> {
    const stored = await queryAll(
      this.entities.grant,
      { index: 'byRequester', partition: `REQUESTER#${requester}` },
      // Newest request first.
      { pageSize: this.pageSize, reverse: true },
    );
    return stored.map(toGrant);
  }

  /** Nobody has seen a grant `create` refuses (the caller only announces it on ok), so it can go. */
  private async withdraw(grant: Grant): Promise<void> {
    await this.entities.grant.build(DeleteItemCommand).key({ id: grant.id }).send();
  }
}
