import type { Session } from '../domain/session';

/** Durable sessions. Every write is conditional: a lost race is reported, never silently applied. */
export interface SessionStore {
  /** Strongly consistent, so a write conditional on the version read here can succeed. */
  get(id: string): Promise<Session | undefined>;
  /**
   * Writes `next` (whole) only if the stored session's version is still `expectedVersion`; 0 means
   * "not stored yet". Also refuses to store an active session over an ended one, whatever the version.
   */
  save(next: Session, expectedVersion: number): Promise<'saved' | 'stale'>;
  /** Sessions not yet settled (open, or ended with a message or a final end time still due), every page. */
  listWatched(): Promise<Session[]>;
  /** When the sweeper last read DescribeSessions History; undefined before the first time. */
  historyCursor(): Promise<string | undefined>;
  setHistoryCursor(at: string): Promise<void>;
}
