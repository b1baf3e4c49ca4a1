import { PutItemCommand } from 'dynamodb-toolbox';
import type { Place } from '../../domain/place';
import type { Session } from '../../domain/session';
import type { SessionStore } from '../../ports/session-store';
import { getConsistent, queryAll, type StoreOptions, versionedRecords } from './entity-store';
import {
  createSessionEntities,
  cursorName,
  sessionIndexKeys,
  toSession,
  watchedPartition,
} from './session-entity';
import { createKeyturnTable } from './table';

export function createDynamoSessionStore(
  opts: StoreOptions & {
    /** Keyturn's own account and region: where sessions recorded without a place are. */
    home: Place;
  },
): SessionStore {
  const { session, cursor } = createSessionEntities(createKeyturnTable(opts.documentClient, opts.tableName));
  const sessions = versionedRecords(session, {
    toStored: (s: Session) => ({ ...s, ...sessionIndexKeys(s, opts.home) }),
    fromStored: toSession,
  });

  return {
    get(id) {
      return sessions.get({ id });
    },

    save(next, expectedVersion) {
      return sessions.save(next, expectedVersion, {
        // Version 0 is a session never saved: it must not exist yet.
        whenNew: { attr: 'id', exists: false },
        // The version already pins what was read; this spells out the rule it protects: an end is final.
        // Except for a stub no one owns: only another place's TerminateSession made it (src/app/session-tracking.ts).
        ...(next.status === 'active'
          ? {
              also: {
                or: [
                  { attr: 'status', exists: false },
                  { attr: 'status', ne: 'ended' },
                  { attr: 'owner', exists: false },
                ],
              },
            }
          : {}),
      });
    },

    async listWatched(place) {
      const stored = await queryAll(
        session,
        { index: 'byStatus', partition: watchedPartition(opts.home, place) },
        { pageSize: opts.pageSize },
      );
      return stored.map(toSession);
    },

    async historyCursor(place) {
      return (await getConsistent(cursor, { name: cursorName(opts.home, place) }))?.at;
    },

    async setHistoryCursor(place, at) {
      await cursor
        .build(PutItemCommand)
        .item({ name: cursorName(opts.home, place), at })
        .send();
    },
  };
}
