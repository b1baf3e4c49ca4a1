import type { Anomaly } from '../domain/anomaly';
import type { LocalDay } from '../domain/digest';
import type { Grant } from '../domain/grant';
import type { Session } from '../domain/session';

/**
 * What the daily digest reads, by time range [from, to) (ISO instants). Adapters read the by-day
 * index, every page, never a Scan. Command runs come from the CommandRunStore (`listByDay`).
 */
export interface DigestData {
  grantsRequested(from: string, to: string): Promise<Grant[]>;
  sessionsStarted(from: string, to: string): Promise<Session[]>;
  anomalies(from: string, to: string): Promise<Anomaly[]>;
  /**
   * Claims the scheduled post of one day's digest. False when it was already claimed: schedules
   * deliver at least once, and the audit channel should see each day once.
   */
  claimPost(day: LocalDay, at: string): Promise<boolean>;
}
