import type { Grant, MessageRef } from '../domain/grant';
import type { ManagedNode } from '../domain/node';
import type { Target } from '../domain/target';

/** What an approval card shows; the Slack adapter turns it into Block Kit. */
export interface RequestCardView {
  grant: Grant;
  target: Target;
  nodes: readonly ManagedNode[];
}

/** Personal messages to a requester, by DM. */
export type Notice =
  | { kind: 'approved'; grant: Grant; target: Target }
  | { kind: 'denied'; grant: Grant; target: Target }
  | { kind: 'ready'; grant: Grant; target: Target; nodes: readonly ManagedNode[]; region: string }
  | { kind: 'failed'; grant: Grant; target: Target };

/** Slack, as the use cases need it. */
export interface Chat {
  postRequestCard(channel: string, view: RequestCardView): Promise<MessageRef>;
  updateRequestCard(ref: MessageRef, view: RequestCardView): Promise<void>;
  notify(user: string, notice: Notice): Promise<void>;
  /** Members of a Slack user group (`S…`); adapters cache this. */
  userGroupMembers(groupId: string): Promise<readonly string[]>;
}
