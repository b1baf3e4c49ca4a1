import { Entity, item, string } from 'dynamodb-toolbox';
import type { Anomaly } from '../../domain/anomaly';
import { utcDatesCovering } from '../../domain/digest';
import { toIsoSeconds } from '../../domain/grant';
import type { DigestData } from '../../ports/digest-data';
import { createAnomalyEntity, toAnomaly } from './anomaly-entity';
import { claimOnce, queryAll, queryPages, type StoreOptions } from './entity-store';
import { createGrantEntities, toGrant } from './grant-entity';
import { createSessionEntities, toSession } from './session-entity';
import { writeId } from './stored-values';
import { createKeyturnTable } from './table';

/**
 * The digest's reads on the byDay index: one paginated Query per UTC day the range touches (a local
 * day spans two), never a Scan. Grants, sessions and anomalies share the `DAY#<UTC date>` partitions;
 * each Query asks for one entity (dynamodb-toolbox filters on its entity attribute). Grants and
 * sessions are handed over a page at a time, whole: the index projects every attribute, so no grant
 * is read again with GetItem (20,000 round trips on a busy day).
 */
export function createDynamoDigestReader(opts: StoreOptions): DigestData {
  const table = createKeyturnTable(opts.documentClient, opts.tableName);
  const { grant } = createGrantEntities(table);
  const { session } = createSessionEntities(table);
  const anomaly = createAnomalyEntity(table);
  const paging = { pageSize: opts.pageSize };

  const claim = new Entity({
    name: 'DigestPost',
    table,
    timestamps: false,
    schema: item({ date: string().key(), timeZone: string().key(), at: string(), writeId: writeId() }),
    computeKey: ({ date, timeZone }) => ({ pk: `DIGEST#${date}#${timeZone}`, sk: 'POSTED' }),
  });

  /**
   * The index sort key holds ISO times written with or without milliseconds, which do not sort
   * together at equal seconds; the key condition is widened by a second each way and the range
   * applied exactly on the parsed times.
   */
  const keyRange = (from: string, to: string) => ({
    between: [
      toIsoSeconds(new Date(Date.parse(from) - 1000)),
      toIsoSeconds(new Date(Date.parse(to) + 1000)),
    ] as [string, string],
  });
  const within = (from: string, to: string) => (iso: string | undefined) => {
    if (iso === undefined) return false;
    const t = Date.parse(iso);
    return Date.parse(from) <= t && t < Date.parse(to);
  };

  const byDay = (date: string, from: string, to: string) => ({
    index: 'byDay' as const,
    partition: `DAY#${date}`,
    range: keyRange(from, to),
  });

  return {
    async *grantsRequested(from, to) {
      for (const date of utcDatesCovering(from, to))
        for await (const page of queryPages(grant, byDay(date, from, to), paging))
          yield page.filter((stored) => within(from, to)(stored.requestedAt)).map(toGrant);
    },

    async *sessionsStarted(from, to) {
      for (const date of utcDatesCovering(from, to))
        for await (const page of queryPages(session, byDay(date, from, to), paging))
          yield page.filter((stored) => within(from, to)(stored.startedAt)).map(toSession);
    },

    async anomalies(from, to) {
      const anomalies: Anomaly[] = [];
      for (const date of utcDatesCovering(from, to)) {
        for (const stored of await queryAll(anomaly, byDay(date, from, to), paging)) {
          const a = toAnomaly(stored);
          if (a !== undefined && within(from, to)(a.at)) anomalies.push(a);
        }
      }
      return anomalies;
    },

    claimPost(day, at) {
      return claimOnce(claim, { date: day.date, timeZone: day.timeZone, at }, 'at');
    },
  };
}
