import { PutItemCommand } from 'dynamodb-toolbox';
import type { Session } from '../../domain/session';
import type { SessionStore } from '../../ports/session-store';
import { getConsistent, queryAll, type StoreOptions, versionedRecords } from './entity-store';
import { createSessionEntities, sessionIndexKeys, toSession, WATCHED } from './session-entity';
import { createKeyturnTable } from './table';

export function createDynamoSessionStore(opts: StoreOptions): SessionStore {
  const { session, cursor } = createSessionEntities(createKeyturnTable(opts.documentClient, opts.tableName));
  const sessions = versionedRecords(session, {
    toStored: (s: Session) => ({ ...s, ...sessionIndexKeys(s) }),
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
        ...(next.status === 'active'
          ? {
              also: {
                or: [
                  { attr: 'status', exists: false },
                  { attr: 'status', ne: 'ended' },
                ],
              },
            }
          : {}),
      });
    },

    async listWatched() {
      const stored = await queryAll(
        session,
        { index: 'byStatus', partition: WATCHED },
        { pageSize: opts.pageSize },
      );
      return stored.map(toSession);
    },

    async historyCursor() {
      return (await getConsistent(cursor, { name: 'history' }))?.at;
    },

    async setHistoryCursor(at) {
      await cursor.build(PutItemCommand).item({ name: 'history', at }).send();
    },
  };
}
