import type { Grant, GrantStatus } from '../domain/grant';

export type CreateGrantOutcome =
  | { ok: true }
  | { ok: false; reason: 'open-grant-exists'; existing: Grant }
  /**
   * A grant with the same `requestKey` was made before: Slack retried the request, or someone replayed
   * it. `existing` is absent when that first request was refused and nothing was kept.
   */
  | { ok: false; reason: 'duplicate-request'; existing?: Grant }
  | { ok: false; reason: 'id-taken' };

/** Durable grants. Every write is conditional: a lost race is reported, never silently applied. */
export interface GrantStore {
  /**
   * Stores a new grant unless its requester already has an open (pending/approved/active) grant on
   * the same target, or the id is taken. Safe under concurrent calls: exactly one of two racing
   * requests for the same requester and target succeeds. A grant whose `requestKey` was used before
   * is not stored.
   */
  create(grant: Grant): Promise<CreateGrantOutcome>;
  get(id: string): Promise<Grant | undefined>;
  /**
   * Writes `next` (whole, history included) only if the stored grant's version is still
   * `expectedVersion`. Moving to a closed status frees the requester's slot for that target.
   */
  save(next: Grant, expectedVersion: number): Promise<'saved' | 'stale'>;
  /**
   * Records that a one-time side effect (a DM, a card post) of a grant is being performed.
   * Returns false when it was already claimed, so retries and redeliveries never repeat it.
   */
  claimEffect(grantId: string, effect: string, at: string): Promise<boolean>;
  /**
   * Claims a Slack request key (`trigger_id`) for a change to an existing grant, such as asking to
   * extend it, with the same claim `create` makes for a new grant's key. False when the key was
   * claimed before: Slack retried the request, or someone replayed it.
   */
  claimRequest(requestKey: string, grantId: string): Promise<boolean>;
  /**
   * Grants in `status` whose due time (`ending.at`, else `expiresAt`, else `requestedAt`) is at or
   * before `dueBy` (all of them when omitted), through the byStatus index, every page. The index is
   * eventually consistent: callers re-read a grant before acting on it.
   */
  listByStatus(status: GrantStatus, opts?: { dueBy?: string }): Promise<Grant[]>;
  /** A requester's grants, newest first, through the byRequester index, every page. */
  listByRequester(requester: string): Promise<Grant[]>;
}
