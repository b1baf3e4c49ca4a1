import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  type Condition,
  type Entity,
  EntityParser,
  type FormattedItem,
  GetItemCommand,
  isConditionCheckFailed,
  type KeyInputItem,
  PutItemCommand,
  type PutItemInput,
  type Query,
  QueryCommand,
} from 'dynamodb-toolbox';
import { WRITE_ID } from './stored-values';

/**
 * What every Keyturn store does with its entities, whatever they hold: write under a condition and
 * hear a lost race as `false` (STYLE.md 4: ConditionalCheckFailed is translated here, never thrown
 * past the adapter), read strongly consistently, and read an index or partition through every page.
 * Each entity's schema stays in its own `*-entity.ts`; items and conditions are built by
 * dynamodb-toolbox.
 */

/** What every store is built from. */
export interface StoreOptions {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Items per Query page. Unset, DynamoDB pages at 1 MB; tests set it small to exercise paging. */
  pageSize?: number;
}

/**
 * Sends a conditional write: false when its condition failed (the expected, lost-race case).
 *
 * Unless the write was sent more than once: the client retries an attempt whose answer it never got
 * (a timeout, a dropped connection), and that attempt may have been written all the same. Its retry
 * then fails its own condition. So a failed condition after a retry asks `wasOwnWrite` whether what
 * is stored is this very write, and counts the write as done if so: a claim is never lost to its own
 * first attempt (nor, for a create, withdrawn as somebody else's). A write another writer has already
 * written over by the time the retry looks reads as lost, as it would have without the retry.
 */
export async function conditionHeld(
  command: { send(): Promise<unknown> },
  wasOwnWrite?: () => Promise<boolean>,
): Promise<boolean> {
  try {
    await command.send();
    return true;
  } catch (error) {
    if (!isConditionCheckFailed(error)) throw error;
    return wasRetried(error) && wasOwnWrite !== undefined && (await wasOwnWrite());
  }
}

/** The SDK's retry strategies and the signed client (signed-json.ts) both count attempts on the error. */
function wasRetried(error: unknown): boolean {
  return ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1;
}

/**
 * Puts `item` if `condition` holds on what is stored; false when it did not. The item goes with a fresh
 * write id (stored-values.ts `writeId`, an attribute of every entity written here), so a retry that
 * fails its condition can tell its own landed attempt from another writer's identical item.
 */
export function putIf<E extends Entity>(
  entity: E,
  item: PutItemInput<E>,
  condition: Condition<E>,
): Promise<boolean> {
  const id = randomUUID();
  const written = { ...item, [WRITE_ID]: id } as PutItemInput<E>;
  return conditionHeld(entity.build(PutItemCommand).item(written).options({ condition }), () =>
    storesWrite(entity, written, id),
  );
}

/**
 * Whether the table's item at `keyOf`'s key (read strongly consistently) carries the write id `id`:
 * the write that set it landed.
 */
export async function storesWrite<E extends Entity>(
  entity: E,
  keyOf: Record<string, unknown>,
  id: string,
): Promise<boolean> {
  const { key } = entity.build(EntityParser).parse(keyOf, { mode: 'key' });
  const { Item } = await entity.table
    .getDocumentClient()
    .send(new GetCommand({ TableName: entity.table.getName(), Key: key, ConsistentRead: true }));
  return Item?.[WRITE_ID] === id;
}

/**
 * The domain records kept whole under a version (grants, runs, sessions): each read strongly
 * consistently and saved over the version read, through the entity's own mapping both ways.
 * `save` answers 'stale' when another writer saved first. Its `whenNew` replaces `version = 0` for
 * records whose first save is that same call (no version attribute exists yet); `also` adds a rule
 * the version already implies but the store spells out.
 */
export function versionedRecords<E extends Entity, T>(
  entity: E,
  mapping: { toStored(record: T): PutItemInput<E>; fromStored(stored: FormattedItem<E>): T },
) {
  return {
    /** Writes a record that must not exist yet: false when its key is taken. */
    putNew(record: T, keyAttr: string): Promise<boolean> {
      return claimOnce(entity, mapping.toStored(record), keyAttr);
    },
    async get(key: KeyInputItem<E>): Promise<T | undefined> {
      const stored = await getConsistent(entity, key);
      return stored === undefined ? undefined : mapping.fromStored(stored);
    },
    async save(
      next: T,
      expectedVersion: number,
      opts: { whenNew?: Condition<E>; also?: Condition<E> } = {},
    ): Promise<'saved' | 'stale'> {
      const version = (
        expectedVersion === 0 && opts.whenNew !== undefined
          ? opts.whenNew
          : { attr: 'version', eq: expectedVersion }
      ) as Condition<E>;
      const condition = (opts.also === undefined ? version : { and: [version, opts.also] }) as Condition<E>;
      return (await putIf(entity, mapping.toStored(next), condition)) ? 'saved' : 'stale';
    },
  };
}

/**
 * Claims a one-time thing (an effect, a post, a request key) by writing its item only where none is:
 * `marker` is an attribute every such item has, so "no marker" means "no item". True for the one
 * writer that claimed it, false for every other.
 */
export function claimOnce<E extends Entity>(
  entity: E,
  item: PutItemInput<E>,
  marker: string,
): Promise<boolean> {
  return putIf(entity, item, { attr: marker, exists: false } as Condition<E>);
}

/**
 * Strongly consistent GetItem: an eventually consistent read could miss a version or a claim that a
 * conditional write already saw.
 */
export async function getConsistent<E extends Entity>(
  entity: E,
  key: KeyInputItem<E>,
): Promise<FormattedItem<E> | undefined> {
  const { Item } = await entity.build(GetItemCommand).key(key).options({ consistent: true }).send();
  return Item as FormattedItem<E> | undefined;
}

interface QueryPaging {
  /** Items per Query page. Unset, DynamoDB pages at 1 MB; tests set it small to exercise paging. */
  pageSize?: number | undefined;
  /** ScanIndexForward false: the highest sort key first. */
  reverse?: boolean;
  consistent?: boolean;
}

function pagingOptions({ pageSize, reverse, consistent }: QueryPaging) {
  return {
    ...(pageSize === undefined ? {} : { limit: pageSize }),
    ...(reverse ? { reverse } : {}),
    ...(consistent ? { consistent } : {}),
  };
}

/** Every item of one entity that `query` matches, read through all pages. */
export async function queryAll<E extends Entity>(
  entity: E,
  query: Query<E['table']>,
  paging: QueryPaging = {},
): Promise<FormattedItem<E>[]> {
  const { Items = [] } = await entity.table
    .build(QueryCommand)
    .entities(entity)
    .query(query)
    .options({ maxPages: Number.POSITIVE_INFINITY, ...pagingOptions(paging) })
    .send();
  return Items as FormattedItem<E>[];
}

/** The same, a page at a time: for readers that hand pages on rather than hold them all. */
export async function* queryPages<E extends Entity>(
  entity: E,
  query: Query<E['table']>,
  paging: QueryPaging = {},
): AsyncGenerator<FormattedItem<E>[]> {
  const command = entity.table
    .build(QueryCommand)
    .entities(entity)
    .query(query)
    .options(pagingOptions(paging));
  for await (const { Items = [] } of command.paginate()) yield Items as FormattedItem<E>[];
}
