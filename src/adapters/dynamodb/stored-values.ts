import { list, map, string } from 'dynamodb-toolbox';
import type { Approval, MessageRef } from '../../domain/grant';

/**
 * Attribute schemas and read-back helpers that several entities share. Read-back rebuilds plain
 * domain values: toolbox hands back optionals absent when written as `undefined` keys, and callers
 * compare and spread domain values, where the two differ.
 */

/**
 * The attribute a conditional put writes a fresh random id into (entity-store.ts `putIf`), so a put
 * that the client retried after its answer was lost can tell its own landed attempt from another
 * writer's identical item. Hidden: it is the store's, never part of a record read back.
 */
export const WRITE_ID = 'writeId';
export const writeId = () => string().optional().hidden();

/** A posted Slack message: the channel and its ts. */
export const messageRef = () => map({ channel: string(), ts: string() });

export const approvalList = () => list(map({ by: string(), at: string() }));

export function toMessageRef(stored: MessageRef): MessageRef {
  return { channel: stored.channel, ts: stored.ts };
}

export function toApprovals(stored: readonly Approval[]): Approval[] {
  return stored.map(({ by, at }) => ({ by, at }));
}

/** Drops keys whose value is undefined (one level). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
