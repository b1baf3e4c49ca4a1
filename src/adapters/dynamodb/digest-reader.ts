import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity, isConditionCheckFailed, item, PutItemCommand, QueryCommand, string } from 'dynamodb-toolbox';
import type { Anomaly } from '../../domain/anomaly';
import { utcDatesCovering } from '../../domain/digest';
import { type Grant, toIsoSeconds } from '../../domain/grant';
import type { Session } from '../../domain/session';
import type { DigestData } from '../../ports/digest-data';
import type { GrantStore } from '../../ports/grant-store';
import { createAnomalyEntity, toAnomaly } from './anomaly-log';
import { createGrantEntities } from './grant-store';
import { createSessionEntities, toSession } from './session-store';
import { createKeyturnTable } from './table';

/** Grants are read back through the grant store, a few at a time. */
const GRANT_READS_IN_FLIGHT = 10;

/**
 * The digest's reads on the byDay index: one paginated Query per UTC day the range touches (a local
 * day spans two), never a Scan. Grants, sessions and anomalies share the `DAY#<UTC date>` partitions;
 * each Query asks for one entity (dynamodb-toolbox filters on its entity attribute).
 */
export function createDynamoDigestReader(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Grants are read back whole through their store, which owns their schema. */
  grants: GrantStore;
  /** Items per Query page. Unset, DynamoDB pages at 1 MB; tests set it small to exercise paging. */
  pageSize?: number;
}): DigestData {
  const table = createKeyturnTable(opts.documentClient, opts.tableName);
  const { grant } = createGrantEntities(table);
  const { session } = createSessionEntities(table);
  const anomaly = createAnomalyEntity(table);
  const pageOption = opts.pageSize === undefined ? {} : { limit: opts.pageSize };

  const claim = new Entity({
    name: 'DigestPost',
    table,
    timestamps: false,
    schema: item({ date: string().key(), timeZone: string().key(), at: string() }),
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

  return {
    async grantsRequested(from, to) {
      const ids: string[] = [];
      for (const date of utcDatesCovering(from, to)) {
        const { Items = [] } = await table
          .build(QueryCommand)
          .entities(grant)
          .query({ index: 'byDay', partition: `DAY#${date}`, range: keyRange(from, to) })
          .options({ maxPages: Number.POSITIVE_INFINITY, attributes: ['id', 'requestedAt'], ...pageOption })
          .send();
        for (const g of Items) if (within(from, to)(g.requestedAt)) ids.push(g.id);
      }
      const grants: Grant[] = [];
      for (let i = 0; i < ids.length; i += GRANT_READS_IN_FLIGHT) {
        const batch = await Promise.all(
          ids.slice(i, i + GRANT_READS_IN_FLIGHT).map((id) => opts.grants.get(id)),
        );
        for (const g of batch) if (g !== undefined) grants.push(g);
      }
      return grants;
    },

    async sessionsStarted(from, to) {
      const sessions: Session[] = [];
      for (const date of utcDatesCovering(from, to)) {
        const { Items = [] } = await table
          .build(QueryCommand)
          .entities(session)
          .query({ index: 'byDay', partition: `DAY#${date}`, range: keyRange(from, to) })
          .options({ maxPages: Number.POSITIVE_INFINITY, ...pageOption })
          .send();
        for (const stored of Items) if (within(from, to)(stored.startedAt)) sessions.push(toSession(stored));
      }
      return sessions;
    },

    async anomalies(from, to) {
      const anomalies: Anomaly[] = [];
      for (const date of utcDatesCovering(from, to)) {
        const { Items = [] } = await table
          .build(QueryCommand)
          .entities(anomaly)
          .query({ index: 'byDay', partition: `DAY#${date}`, range: keyRange(from, to) })
          .options({ maxPages: Number.POSITIVE_INFINITY, ...pageOption })
          .send();
        for (const stored of Items) {
          const a = toAnomaly(stored);
          if (a !== undefined && within(from, to)(a.at)) anomalies.push(a);
        }
      }
      return anomalies;
    },

    async claimPost(day, at) {
      try {
        await claim
          .build(PutItemCommand)
          .item({ date: day.date, timeZone: day.timeZone, at })
          .options({ condition: { attr: 'at', exists: false } })
          .send();
        return true;
      } catch (error) {
        if (isConditionCheckFailed(error)) return false;
        throw error;
      }
    },
  };
}
