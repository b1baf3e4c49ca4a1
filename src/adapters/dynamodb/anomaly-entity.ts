import { Entity, type FormattedItem, item, list, map, string } from 'dynamodb-toolbox';
import { type Anomaly, anomalyId } from '../../domain/anomaly';
import { byDayKeys, type KeyturnTable } from './table';

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
      // The byDay index attributes, hidden so reads return the anomaly.
      gsi2pk: string().hidden(),
      gsi2sk: string().hidden(),
    }),
    computeKey: ({ id }) => ({ pk: `ANOMALY#${id}`, sk: 'ANOMALY' }),
  });
}

export type AnomalyEntity = ReturnType<typeof createAnomalyEntity>;

type StoredAnomaly = FormattedItem<AnomalyEntity>;

/** The grant an anomaly of a revoke is about, as both such kinds carry it. */
type GrantFields = { grantId: string; requester: string; target: string };

const grantFields = ({ grantId, requester, target }: GrantFields): GrantFields => ({
  grantId,
  requester,
  target,
});

export function toStoredAnomaly(a: Anomaly) {
  const base = { id: anomalyId(a), kind: a.kind, at: a.at, ...byDayKeys(a.at) };
  switch (a.kind) {
    case 'orphan-policy-removed':
      return {
        ...base,
        policyArn: a.policyArn,
        ...(a.grantId === undefined ? {} : { grantId: a.grantId }),
        detachedFrom: a.detachedFrom.map((p) => ({ kind: p.kind, name: p.name })),
      };
    case 'sessions-not-ended':
      return { ...base, ...grantFields(a), sessionIds: [...a.sessionIds] };
    case 'revoke-failed':
      return { ...base, ...grantFields(a), error: a.error };
  }
}

/** Back to the domain value; an item missing what its kind needs is not an anomaly Keyturn wrote. */
export function toAnomaly(stored: StoredAnomaly): Anomaly | undefined {
  const { kind, at } = stored;
  if (kind === 'orphan-policy-removed') {
    if (stored.policyArn === undefined) return undefined;
    return {
      kind,
      at,
      policyArn: stored.policyArn,
      ...(stored.grantId === undefined ? {} : { grantId: stored.grantId }),
      detachedFrom: (stored.detachedFrom ?? []).map((p) => ({ kind: p.kind, name: p.name })),
    };
  }
  const { grantId, requester, target } = stored;
  if (grantId === undefined || requester === undefined || target === undefined) return undefined;
  const grant = { grantId, requester, target };
  if (kind === 'sessions-not-ended')
    return { kind, at, ...grant, sessionIds: [...(stored.sessionIds ?? [])] };
  if (stored.error === undefined) return undefined;
  return { kind, at, ...grant, error: stored.error };
}
