import type { Place } from '../domain/place';
import type { Session } from '../domain/session';

/**
 * Durable sessions. Every write is conditional: a lost race is reported, never silently applied.
 * What the sweeper watches, and where its History read reached, is kept per account and region: each
 * place is reconciled on its own. Sessions recorded without a place are Keyturn's own (the home place).
 */
export interface SessionStore {
  /** Strongly consistent, so a write conditional on the version read here can succeed. */
  get(id: string): Promise<Session | undefined>;
  /**
   * Writes `next` (whole) only if the stored session's version is still `expectedVersion`; 0 means
   * "not stored yet". Also refuses to store an active session over an ended one, whatever the version.
   */
  save(next: Session, expectedVersion: number): Promise<'saved' | 'stale'>;
  /** Sessions in `place` not yet settled (open, or ended with a message or a final end time still due), every page. */
  listWatched(place: Place): Promise<Session[]>;
  /** When the sweeper last read DescribeSessions History in `place`; undefined before the first time. */
  historyCursor(place: Place): Promise<string | undefined>;
  setHistoryCursor(place: Place, at: string): Promise<void>;
}
