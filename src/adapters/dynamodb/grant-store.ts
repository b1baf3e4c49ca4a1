import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  anyOf,
  DeleteItemCommand,
  Entity,
  type FormattedItem,
  GetItemCommand,
  isConditionCheckFailed,
  item,
  list,
  map,
  nul,
  number,
  PutItemCommand,
  QueryCommand,
  string,
} from 'dynamodb-toolbox';
import {
  type Approval,
  type Ending,
  type Extension,
  GRANT_STATUSES,
  type Grant,
  type GrantStatus,
  type HistoryEvent,
  isOpen,
  type MessageRef,
} from '../../domain/grant';
import type { Principal } from '../../domain/principal';
import type { CreateGrantOutcome, GrantStore } from '../../ports/grant-store';
import { createRequestKeys } from './request-keys';
import { createKeyturnTable, type KeyturnTable } from './table';

/**
 * How often `create` re-reads the open slot after losing a race for it. Each retry means another
 * writer changed the slot in between, so a handful is plenty; running out means something is
 * rewriting the slot in a loop, which is a bug worth surfacing rather than spinning on.
 */
const MAX_SLOT_ATTEMPTS = 5;

/**
 * Every member of a domain string union, listed as a record so the compiler insists on all of them:
 * a value the schema's enum lacked would be refused on write.
 */
function members<T extends string>(all: Record<T, true>): T[] {
  return Object.keys(all) as T[];
}

const ENDING_STATUSES = members<Ending['status']>({
  expired: true,
  released: true,
  revoked: true,
  failed: true,
});
const EXTENSION_STATES = members<Extension['state']>({
  pending: true,
  approved: true,
  extended: true,
  denied: true,
});
const HISTORY_EVENTS = members<HistoryEvent>({
  'approval-recorded': true,
  'ending-requested': true,
  'extension-requested': true,
  'extension-approval-recorded': true,
  'extension-approved': true,
  'extension-denied': true,
  extended: true,
});

const grantStatus = () => string().enum(...GRANT_STATUSES);
const approvalList = () => list(map({ by: string(), at: string() }));
const messageRef = () => map({ channel: string(), ts: string() });

/**
 * The entities behind the grant store. Exported so tests can read indexes and stage crash states
 * through the same schemas the store writes with; the app only sees the GrantStore port.
 */
export function createGrantEntities(table: KeyturnTable) {
  const grant = new Entity({
    name: 'Grant',
    table,
    // The store always writes whole grants; toolbox timestamps would only be storage-side noise.
    timestamps: false,
    schema: item({
      id: string().key(),
      requestKey: string().optional(),
      requester: string(),
      // path: an IAM user's path (direct attach); sessionName: an access role's pinned session name.
      principal: map({
        kind: string().enum('user', 'role', 'access-role'),
        name: string(),
        path: string().optional(),
        sessionName: string().optional(),
      }),
      target: string(),
      durationMinutes: number(),
      reason: string(),
      status: grantStatus(),
      version: number(),
      requestedAt: string(),
      approvals: approvalList(),
      startsAt: string().optional(),
      expiresAt: string().optional(),
      policyArn: string().optional(),
      decidedBy: string().optional(),
      decidedAt: string().optional(),
      denyReason: string().optional(),
      failureReason: string().optional(),
      card: messageRef().optional(),
      ending: map({
        status: string().enum(...ENDING_STATUSES),
        by: string(),
        at: string(),
        reason: string().optional(),
      }).optional(),
      revokeLease: string().optional(),
      extension: map({
        minutes: number(),
        requestedBy: string(),
        requestedAt: string(),
        approvals: approvalList(),
        state: string().enum(...EXTENSION_STATES),
        newExpiresAt: string().optional(),
        decidedBy: string().optional(),
        decidedAt: string().optional(),
        denyReason: string().optional(),
        card: messageRef().optional(),
      }).optional(),
      extendedMinutes: number().optional(),
      runAsSet: string().optional(),
      sessionsEnded: number().optional(),
      history: list(
        map({
          at: string(),
          from: anyOf(nul(), grantStatus()),
          to: grantStatus(),
          event: string()
            .enum(...HISTORY_EVENTS)
            .optional(),
          by: string(),
          note: string().optional(),
        }),
      ),
      // Index attributes: required so no write can leave them out of sync with the grant,
      // hidden so reads hand back exactly the Grant that was written.
      gsi1pk: string().hidden(),
      gsi1sk: string().hidden(),
      gsi2pk: string().hidden(),
      gsi2sk: string().hidden(),
      gsi3pk: string().hidden(),
      gsi3sk: string().hidden(),
    }),
    computeKey: ({ id }) => ({ pk: `GRANT#${id}`, sk: 'GRANT' }),
  });

  /** Points at the one open grant a requester may hold on a target; its key is the uniqueness guard. */
  const openSlot = new Entity({
    name: 'OpenSlot',
    table,
    timestamps: false,
    schema: item({
      requester: string().key(),
      target: string().key(),
      grantId: string(),
    }),
    computeKey: ({ requester, target }) => ({ pk: `OPEN#${requester}#${target}`, sk: 'OPEN' }),
  });

  /** A one-time side effect of a grant, claimed before it is performed. Lives in the grant's partition. */
  const effect = new Entity({
    name: 'GrantEffect',
    table,
    timestamps: false,
    schema: item({
      grantId: string().key(),
      effect: string().key(),
      at: string(),
    }),
    computeKey: ({ grantId, effect }) => ({ pk: `GRANT#${grantId}`, sk: `EFFECT#${effect}` }),
  });

  const request = createRequestKeys(table, 'GRANT');

  return { grant, openSlot, effect, request };
}

type GrantEntities = ReturnType<typeof createGrantEntities>;

/** The index attributes, recomputed from the grant on every write. */
export function grantIndexKeys(grant: Grant) {
  return {
    gsi1pk: `STATUS#${grant.status}`,
    // The grant's due time, so the sweeper can query `<= now`: an ending grant is due when its ending
    // was decided (a crashed revoke is picked up at once), an active one at expiry, others by age.
    gsi1sk: grant.ending?.at ?? grant.expiresAt ?? grant.requestedAt,
    // UTC day, matching the digest's day boundaries in ISO timestamps.
    gsi2pk: `DAY#${grant.requestedAt.slice(0, 10)}`,
    gsi2sk: grant.requestedAt,
    gsi3pk: `REQUESTER#${grant.requester}`,
    gsi3sk: grant.requestedAt,
  };
}

export class GrantStoreContentionError extends Error {
  readonly code = 'grant-store-contention';
  override readonly name = 'GrantStoreContentionError';
  constructor(requester: string, target: string) {
    super(`open slot for ${requester} on ${target} kept changing during ${MAX_SLOT_ATTEMPTS} attempts`);
  }
}

export function createDynamoGrantStore(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Items per Query page. Unset, DynamoDB pages at 1 MB; tests set it small to exercise paging. */
  pageSize?: number;
}): GrantStore {
  const entities = createGrantEntities(createKeyturnTable(opts.documentClient, opts.tableName));
  return new DynamoGrantStore(entities, opts.pageSize);
}

class DynamoGrantStore implements GrantStore {
  constructor(
    private readonly entities: GrantEntities,
    private readonly pageSize: number | undefined,
  ) {}

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
    if (!(await this.putNewGrant(grant))) return { ok: false, reason: 'id-taken' };
    // Before the slot: a replay after the first request was cancelled would find the slot free.
    if (grant.requestKey !== undefined) {
      const claim = await this.entities.request.claim(grant.requestKey, grant.id);
      if (!claim.claimed) {
        const existing = claim.holder ? await this.get(claim.holder) : undefined;
        // Nobody has seen this grant yet (the caller only announces it on ok), so it can go.
        await this.entities.grant.build(DeleteItemCommand).key({ id: grant.id }).send();
        return { ok: false, reason: 'duplicate-request', ...(existing ? { existing } : {}) };
      }
    }

    const { openSlot } = this.entities;
    const slotKey = { requester: grant.requester, target: grant.target };
    const slot = { ...slotKey, grantId: grant.id };
    for (let attempt = 0; attempt < MAX_SLOT_ATTEMPTS; attempt++) {
      // grantId is on every slot, so "no grantId" means "no slot".
      const claim = openSlot
        .build(PutItemCommand)
        .item(slot)
        .options({ condition: { attr: 'grantId', exists: false } });
      if (await this.conditionalWrite(claim)) return { ok: true };
      const held = await openSlot.build(GetItemCommand).key(slotKey).options({ consistent: true }).send();
      // Freed between our write and read: try to claim it again.
      if (held.Item === undefined) continue;
      const holderId = held.Item.grantId;
      const holder = await this.get(holderId);
      if (holder !== undefined && isOpen(holder.status)) {
        // Nobody has seen this grant yet (the caller only announces it on ok), so it can go.
        await this.entities.grant.build(DeleteItemCommand).key({ id: grant.id }).send();
        return { ok: false, reason: 'open-grant-exists', existing: holder };
      }
      // The holder is closed (its save crashed before releasing the slot) or gone: take it over,
      // unless someone else does first, in which case look again.
      const takeover = openSlot
        .build(PutItemCommand)
        .item(slot)
        .options({ condition: { attr: 'grantId', eq: holderId } });
      if (await this.conditionalWrite(takeover)) return { ok: true };
    }
    throw new GrantStoreContentionError(grant.requester, grant.target);
  }

  // Strongly consistent: an eventually consistent read could miss a version or a slot holder that
  // a conditional write already saw, and make create take over a slot that is still held.
  async get(id: string): Promise<Grant | undefined> {
    const { Item } = await this.entities.grant
      .build(GetItemCommand)
      .key({ id })
      .options({ consistent: true })
      .send();
    return Item === undefined ? undefined : toGrant(Item);
  }

  async save(next: Grant, expectedVersion: number): Promise<'saved' | 'stale'> {
    const write = this.entities.grant
      .build(PutItemCommand)
      .item({ ...next, ...grantIndexKeys(next) })
      .options({ condition: { attr: 'version', eq: expectedVersion } });
    if (!(await this.conditionalWrite(write))) return 'stale';
    if (!isOpen(next.status)) {
      // Only release the slot if it is still ours: a takeover may already have handed it on.
      const release = this.entities.openSlot
        .build(DeleteItemCommand)
        .key({ requester: next.requester, target: next.target })
        .options({ condition: { attr: 'grantId', eq: next.id } });
      await this.conditionalWrite(release);
    }
    return 'saved';
  }

  async claimEffect(grantId: string, effect: string, at: string): Promise<boolean> {
    return this.conditionalWrite(
      this.entities.effect
        .build(PutItemCommand)
        .item({ grantId, effect, at })
        .options({ condition: { attr: 'at', exists: false } }),
    );
  }

  async claimRequest(requestKey: string, grantId: string): Promise<boolean> {
    return (await this.entities.request.claim(requestKey, grantId)).claimed;
  }

  async listByStatus(status: GrantStatus, opts: { dueBy?: string } = {}): Promise<Grant[]> {
    const { Items = [] } = await this.entities.grant.table
      .build(QueryCommand)
      .entities(this.entities.grant)
      .query({
        index: 'byStatus',
        partition: `STATUS#${status}`,
        ...(opts.dueBy === undefined ? {} : { range: { lte: opts.dueBy } }),
      })
      .options({ maxPages: Number.POSITIVE_INFINITY, ...this.pageOption() })
      .send();
    return Items.map(toGrant);
  }

  async listByRequester(requester: string): Promise<Grant[]> {
    const { Items = [] } = await this.entities.grant.table
      .build(QueryCommand)
      .entities(this.entities.grant)
      .query({ index: 'byRequester', partition: `REQUESTER#${requester}` })
      // reverse = ScanIndexForward false: newest request first.
      .options({ maxPages: Number.POSITIVE_INFINITY, reverse: true, ...this.pageOption() })
      .send();
    return Items.map(toGrant);
  }

  private pageOption(): { limit?: number } {
    return this.pageSize === undefined ? {} : { limit: this.pageSize };
  }

  private putNewGrant(grant: Grant): Promise<boolean> {
    return this.conditionalWrite(
      this.entities.grant
        .build(PutItemCommand)
        .item({ ...grant, ...grantIndexKeys(grant) })
        .options({ condition: { attr: 'id', exists: false } }),
    );
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

type StoredGrant = FormattedItem<GrantEntities['grant']>;

/** Grants written before access roles have `{ kind, name }` only: a user or role attached directly. */
function toPrincipal(stored: StoredGrant['principal']): Principal {
  if (stored.kind === 'access-role') {
    return { kind: 'access-role', name: stored.name, sessionName: stored.sessionName ?? '' };
  }
  if (stored.kind === 'user') {
    return stored.path === undefined
      ? { kind: 'user', name: stored.name }
      : { kind: 'user', name: stored.name, path: stored.path };
  }
  return stored.path === undefined
    ? { kind: 'role', name: stored.name }
    : { kind: 'role', name: stored.name, path: stored.path };
}

/**
 * Rebuilds the domain value, so an optional absent when written stays absent rather than `undefined`.
 * Also for grants read from an index (every index projects all attributes): the digest reads them so.
 */
export function toGrant(stored: StoredGrant): Grant {
  const { principal, approvals, card, history, ending, extension, ...rest } = stored;
  const grant: Grant = {
    ...compact(rest),
    principal: toPrincipal(principal),
    approvals: toApprovals(approvals),
    history: history.map((entry) => compact({ ...entry })),
  };
  if (card !== undefined) grant.card = toMessageRef(card);
  if (ending !== undefined) grant.ending = compact({ ...ending });
  if (extension !== undefined) {
    const { approvals: extensionApprovals, card: extensionCard, ...fields } = extension;
    grant.extension = compact({ ...fields, approvals: toApprovals(extensionApprovals) });
    if (extensionCard !== undefined) grant.extension.card = toMessageRef(extensionCard);
  }
  return grant;
}

function toApprovals(stored: readonly Approval[]): Approval[] {
  return stored.map(({ by, at }) => ({ by, at }));
}

function toMessageRef(stored: MessageRef): MessageRef {
  return { channel: stored.channel, ts: stored.ts };
}

/** Drops keys whose value is undefined (one level): callers compare and spread grants, where they differ. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
