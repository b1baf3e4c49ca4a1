import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity, type FormattedItem, item, list, map, PutItemCommand, string } from 'dynamodb-toolbox';
import { type Anomaly, anomalyId } from '../../domain/anomaly';
import type { AnomalyLog } from '../../ports/anomaly-log';
import { createKeyturnTable, type KeyturnTable } from './table';

const ANOMALY_KINDS: Anomaly['kind'][] = ['orphan-policy-removed', 'sessions-not-ended', 'revoke-failed'];

/** Anomalies in Keyturn's single table, on the byDay index by when they happened (for the digest). */
export function createAnomalyEntity(table: KeyturnTable) {
  return new Entity({
    name: 'Anomaly',
    table,
    timestamps: false,
    schema: item({
      id: string().key(),
      kind: string().enum(...ANOMALY_KINDS),
      at: string(),
      policyArn: string().optional(),
      grantId: string().optional(),
      requester: string().optional(),
      target: string().optional(),
      sessionIds: list(string()).optional(),
      error: string().optional(),
      detachedFrom: list(map({ kind: string().enum('user', 'role', 'group'), name: string() })).optional(),
      gsi2pk: string().hidden(),
      gsi2sk: string().hidden(),
    }),
    computeKey: ({ id }) => ({ pk: `ANOMALY#${id}`, sk: 'ANOMALY' }),
  });
}

export type AnomalyEntity = ReturnType<typeof createAnomalyEntity>;

export function createDynamoAnomalyLog(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
}): AnomalyLog {
  const entity = createAnomalyEntity(createKeyturnTable(opts.documentClient, opts.tableName));
  return {
    async record(anomaly) {
      // Keyed by anomalyId: the same anomaly recorded again overwrites itself, so no condition is needed.
      await entity.build(PutItemCommand).item(toStored(anomaly)).send();
    },
  };
}

function toStored(a: Anomaly) {
  const base = { id: anomalyId(a), at: a.at, gsi2pk: `DAY#${a.at.slice(0, 10)}`, gsi2sk: a.at };
  switch (a.kind) {
    case 'orphan-policy-removed':
      return {
        ...base,
        kind: a.kind,
        policyArn: a.policyArn,
        ...(a.grantId === undefined ? {} : { grantId: a.grantId }),
        detachedFrom: a.detachedFrom.map((p) => ({ kind: p.kind, name: p.name })),
      };
    case 'sessions-not-ended':
      return {
        ...base,
        kind: a.kind,
        grantId: a.grantId,
        requester: a.requester,
        target: a.target,
        sessionIds: [...a.sessionIds],
      };
    case 'revoke-failed':
      return {
        ...base,
        kind: a.kind,
        grantId: a.grantId,
        requester: a.requester,
        target: a.target,
        error: a.error,
      };
  }
}

/** Back to the domain value; an item missing what its kind needs is not an anomaly Keyturn wrote. */
export function toAnomaly(stored: FormattedItem<AnomalyEntity>): Anomaly | undefined {
  switch (stored.kind) {
    case 'orphan-policy-removed':
      if (stored.policyArn === undefined) return undefined;
      return {
        kind: stored.kind,
        at: stored.at,
        policyArn: stored.policyArn,
        ...(stored.grantId === undefined ? {} : { grantId: stored.grantId }),
        detachedFrom: (stored.detachedFrom ?? []).map((p) => ({ kind: p.kind, name: p.name })),
      };
    case 'sessions-not-ended':
      if (stored.grantId === undefined || stored.requester === undefined || stored.target === undefined)
        return undefined;
      return {
        kind: stored.kind,
        at: stored.at,
        grantId: stored.grantId,
        requester: stored.requester,
        target: stored.target,
        sessionIds: [...(stored.sessionIds ?? [])],
      };
    case 'revoke-failed':
      if (
        stored.grantId === undefined ||
        stored.requester === undefined ||
        stored.target === undefined ||
        stored.error === undefined
      )
        return undefined;
      return {
        kind: stored.kind,
        at: stored.at,
        grantId: stored.grantId,
        requester: stored.requester,
        target: stored.target,
        error: stored.error,
      };
  }
}
