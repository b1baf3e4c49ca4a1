import type { Anomaly } from '../domain/anomaly';

/** Durable record of what the audit channel was told, for the daily digest. */
export interface AnomalyLog {
  /** Idempotent: recording the same anomaly (same anomalyId) twice stores it once. */
  record(anomaly: Anomaly): Promise<void>;
}
