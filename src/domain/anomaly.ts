/**
 * Something the audit channel was told about that the daily digest must list again: kept durably,
 * because a Slack message is no record. Sessions that matched no grant are anomalies too, but they
 * are read from the sessions themselves (Session.unmatched).
 */
export type Anomaly =
  | {
      kind: 'orphan-policy-removed';
      at: string;
      policyArn: string;
      grantId?: string;
      detachedFrom: readonly { kind: 'user' | 'role' | 'group'; name: string }[];
    }
  /** A revoke could not confirm its sessions were terminated. */
  | {
      kind: 'sessions-not-ended';
      at: string;
      grantId: string;
      requester: string;
      target: string;
      sessionIds: readonly string[];
    }
  /** A revoke still failing well past its due time: the policy may still be attached. */
  | {
      kind: 'revoke-failed';
      at: string;
      grantId: string;
      requester: string;
      target: string;
      error: string;
    };

export type AnomalyKind = Anomaly['kind'];

/** A stable id, so recording the same anomaly twice (a retried sweep) stores it once. */
export function anomalyId(a: Anomaly): string {
  switch (a.kind) {
    case 'orphan-policy-removed':
      return `${a.kind}#${a.policyArn}#${a.at}`;
    case 'sessions-not-ended':
    case 'revoke-failed':
      return `${a.kind}#${a.grantId}`;
  }
}
