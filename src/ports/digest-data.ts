import type { Anomaly } from '../domain/anomaly';
import type { LocalDay } from '../domain/digest';
import type { Grant } from '../domain/grant';
import type { Session } from '../domain/session';

/**
 * What the daily digest reads, by time range [from, to) (ISO instants). Adapters read the by-day
 * index, every page, never a Scan. Grants and sessions come a page at a time, so a busy day is folded
 * into the digest's tallies instead of being held whole (issue 13: 100,000 sessions in 256 MB).
 * Command runs come from the CommandRunStore (`listByDay`).
 */
export interface DigestData {
  /** Grants requested in the range, whole, one page (one Query response) at a time. */
  grantsRequested(from: string, to: string): AsyncIterable<readonly Grant[]>;
  /** Sessions that started in the range, one page at a time. */
  sessionsStarted(from: string, to: string): AsyncIterable<readonly Session[]>;
  anomalies(from: string, to: string): Promise<Anomaly[]>;
  /**
   * Claims the scheduled post of one day's digest. False when it was already claimed: schedules
   * deliver at least once, and the audit channel should see each day once.
   */
  claimPost(day: LocalDay, at: string): Promise<boolean>;
}
