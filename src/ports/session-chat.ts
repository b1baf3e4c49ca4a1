import type { DigestView } from '../domain/digest';
import type { Grant, MessageRef } from '../domain/grant';
import type { Session, SessionEnding } from '../domain/session';

/** A session that started under a grant: one short line in the grant's request thread. */
export interface SessionStartView {
  session: Session;
  grant: Grant;
}

/** A session that ended: its summary, in the same thread. */
export interface SessionSummaryView {
  session: Session;
  grant: Grant;
  ending: SessionEnding;
}

/** A session no grant explains; `people` are the Slack users mapped to its owner, if any. */
export interface UnmatchedSessionView {
  session: Session;
  people: readonly string[];
}

/** Slack, as session tracking and the daily digest need it. Thread replies go under the approval card. */
export interface SessionChat {
  postSessionStarted(thread: MessageRef, view: SessionStartView): Promise<void>;
  postSessionSummary(thread: MessageRef, view: SessionSummaryView): Promise<void>;
  postUnmatchedSession(channel: string, view: UnmatchedSessionView): Promise<void>;
  postDigest(channel: string, digest: DigestView): Promise<void>;
}
