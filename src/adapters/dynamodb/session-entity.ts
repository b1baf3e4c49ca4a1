import { boolean, Entity, type FormattedItem, item, map, number, string } from 'dynamodb-toolbox';
import { type Place, samePlace } from '../../domain/place';
import { SESSION_DOCUMENT_KINDS, type Session, type SessionEnd, sessionPlace } from '../../domain/session';
import { compact, writeId } from './stored-values';
import { byDayKeys, type KeyturnTable } from './table';

/**
 * The byStatus partition of sessions still watched by the sweeper in Keyturn's own account and region
 * (and of every session recorded before there were others); settled sessions leave the index.
 */
export const WATCHED = 'SESSIONS#watched';

/** The watched partition of one place: Keyturn's own keeps WATCHED, every other its own beside it. */
export function watchedPartition(home: Place, place: Place): string {
  return samePlace(home, place) ? WATCHED : `${WATCHED}#${place.accountId}#${place.region}`;
}

/** The name of one place's History cursor: Keyturn's own keeps the one it always had. */
export function cursorName(home: Place, place: Place): string {
  return samePlace(home, place) ? 'history' : `history#${place.accountId}#${place.region}`;
}

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
      account: string().optional(),
      region: string().optional(),
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
      writeId: writeId(),
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
 * The index attributes, recomputed from the session on every write. byStatus partitions watched
 * sessions by place (`home`: Keyturn's own account and region). byDay is keyed by the start (the UTC
 * day, as grants are), or by what is known until the start is: the digest reads started sessions.
 */
export function sessionIndexKeys(s: Session, home: Place) {
  const partition = watchedPartition(home, sessionPlace(home, s));
  return {
    ...(s.settledAt === undefined ? { gsi1pk: partition, gsi1sk: s.startedAt ?? s.firstSeenAt } : {}),
    ...byDayKeys(s.startedAt ?? s.endedAt ?? s.firstSeenAt),
  };
}

type StoredSession = FormattedItem<SessionEntities['session']>;

/** Rebuilds the domain value, so an optional absent when written stays absent rather than `undefined`. */
export function toSession(stored: StoredSession): Session {
  const { node, end, ...rest } = stored;
  const s = compact(rest) as unknown as Session;
  if (node !== undefined)
    s.node = node.name === undefined ? { id: node.id } : { id: node.id, name: node.name };
  if (end !== undefined)
    s.end = end.kind === 'api-call' ? { kind: 'api-call', by: end.by ?? '' } : { kind: end.kind };
  return s;
}
