import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  boolean,
  type Condition,
  Entity,
  type FormattedItem,
  GetItemCommand,
  isConditionCheckFailed,
  item,
  map,
  number,
  PutItemCommand,
  QueryCommand,
  string,
} from 'dynamodb-toolbox';
import { SESSION_DOCUMENT_KINDS, type Session, type SessionEnd } from '../../domain/session';
import type { SessionStore } from '../../ports/session-store';
import { createKeyturnTable, type KeyturnTable } from './table';

/** The byStatus partition of sessions still watched by the sweeper; settled sessions leave the index. */
const WATCHED = 'SESSIONS#watched';

const END_KINDS: SessionEnd['kind'][] = ['api-call', 'no-api-call', 'vanished'];

/**
 * The entities behind the session store, in Keyturn's single table. Exported so the digest reader
 * and tests read through the same schemas the store writes with.
 */
export function createSessionEntities(table: KeyturnTable) {
  const session = new Entity({
    name: 'Session',
    table,
    timestamps: false,
    schema: item({
      id: string().key(),
      version: number(),
      status: string().enum('active', 'ended'),
      firstSeenAt: string(),
      owner: string().optional(),
      node: map({ id: string(), name: string().optional() }).optional(),
      document: string()
        .enum(...SESSION_DOCUMENT_KINDS)
        .optional(),
      documentName: string().optional(),
      startedAt: string().optional(),
      endedAt: string().optional(),
      end: map({ kind: string().enum(...END_KINDS), by: string().optional() }).optional(),
      grantId: string().optional(),
      unmatched: boolean().optional(),
      outputUrl: string().optional(),
      historyAt: string().optional(),
      missingSince: string().optional(),
      startPostedAt: string().optional(),
      summaryPostedAt: string().optional(),
      anomalyPostedAt: string().optional(),
      settledAt: string().optional(),
      // byStatus is sparse for sessions: only watched ones carry gsi1 (a Put without them drops them).
      gsi1pk: string().optional().hidden(),
      gsi1sk: string().optional().hidden(),
      gsi2pk: string().hidden(),
      gsi2sk: string().hidden(),
    }),
    computeKey: ({ id }) => ({ pk: `SESSION#${id}`, sk: 'SESSION' }),
  });

  /** Where the sweeper's last DescribeSessions History read reached. */
  const cursor = new Entity({
    name: 'SessionHistoryCursor',
    table,
    timestamps: false,
    schema: item({ name: string().key(), at: string() }),
    computeKey: ({ name }) => ({ pk: `SESSIONS#${name}`, sk: 'CURSOR' }),
  });

  return { session, cursor };
}

export type SessionEntities = ReturnType<typeof createSessionEntities>;

/**
 * The index attributes, recomputed from the session on every write. byDay is keyed by the start
 * (the UTC day, as grants are), or by what is known until the start is: the digest reads started sessions.
 */
export function sessionIndexKeys(s: Session) {
  const dayTime = s.startedAt ?? s.endedAt ?? s.firstSeenAt;
  return {
    ...(s.settledAt === undefined ? { gsi1pk: WATCHED, gsi1sk: s.startedAt ?? s.firstSeenAt } : {}),
    gsi2pk: `DAY#${dayTime.slice(0, 10)}`,
    gsi2sk: dayTime,
  };
}

export function createDynamoSessionStore(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Items per Query page. Unset, DynamoDB pages at 1 MB; tests set it small to exercise paging. */
  pageSize?: number;
}): SessionStore {
  const entities = createSessionEntities(createKeyturnTable(opts.documentClient, opts.tableName));
  const pageOption = opts.pageSize === undefined ? {} : { limit: opts.pageSize };
  const { session, cursor } = entities;

  return {
    async get(id) {
      const { Item } = await session.build(GetItemCommand).key({ id }).options({ consistent: true }).send();
      return Item === undefined ? undefined : toSession(Item);
    },

    async save(next, expectedVersion) {
      const version: SessionCondition =
        expectedVersion === 0 ? { attr: 'id', exists: false } : { attr: 'version', eq: expectedVersion };
      // The version already pins what was read; this spells out the rule it protects: an end is final.
      const condition: SessionCondition =
        next.status === 'active'
          ? {
              and: [
                version,
                {
                  or: [
                    { attr: 'status', exists: false },
                    { attr: 'status', ne: 'ended' },
                  ],
                },
              ],
            }
          : version;
      try {
        await session
          .build(PutItemCommand)
          .item({ ...next, ...sessionIndexKeys(next) })
          .options({ condition })
          .send();
        return 'saved';
      } catch (error) {
        if (isConditionCheckFailed(error)) return 'stale';
        throw error;
      }
    },

    async listWatched() {
      const { Items = [] } = await session.table
        .build(QueryCommand)
        .entities(session)
        .query({ index: 'byStatus', partition: WATCHED })
        .options({ maxPages: Number.POSITIVE_INFINITY, ...pageOption })
        .send();
      return Items.map(toSession);
    },

    async historyCursor() {
      const { Item } = await cursor
        .build(GetItemCommand)
        .key({ name: 'history' })
        .options({ consistent: true })
        .send();
      return Item?.at;
    },

    async setHistoryCursor(at) {
      await cursor.build(PutItemCommand).item({ name: 'history', at }).send();
    },
  };
}

type StoredSession = FormattedItem<SessionEntities['session']>;
type SessionCondition = Condition<SessionEntities['session']>;

/** Rebuilds the domain value, so an optional absent when written stays absent rather than `undefined`. */
export function toSession(stored: StoredSession): Session {
  const { node, end, ...rest } = stored;
  const s = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as unknown as Session;
  if (node !== undefined)
    s.node = node.name === undefined ? { id: node.id } : { id: node.id, name: node.name };
  if (end !== undefined)
    s.end = end.kind === 'api-call' ? { kind: 'api-call', by: end.by ?? '' } : { kind: end.kind };
  return s;
}
