import type { ManagedNode } from '../domain/node';

/** A Session Manager session as DescribeSessions reports it. */
export interface SessionInfo {
  id: string;
  /** IAM ARN of the caller: `…:user/alice`, or `arn:aws:sts::…:assumed-role/<role>/<session>`. */
  owner: string;
  /** Node id (`i-…` / `mi-…`). */
  target: string;
  startedAt?: string;
  endedAt?: string;
  document?: string;
  status?: string;
  outputUrl?: string;
}

/** Systems Manager's view of the nodes, as the use cases need it. */
export interface Fleet {
  /** Every managed node carrying all of `tags` (all pages), with its ping status. */
  nodesTagged(tags: Readonly<Record<string, string>>): Promise<ManagedNode[]>;
  /**
   * Sessions open now (DescribeSessions State=Active, all pages); with `owner`, only that owner's
   * (filter `Owner`), so ending one grant's sessions does not page through the whole account's.
   * A fleet without the filter may return more: callers still check each session's owner.
   */
  activeSessions(filter?: { owner?: string }): Promise<SessionInfo[]>;
  /**
   * Ended sessions that started at or after `afterIso` (DescribeSessions State=History, kept 30 days;
   * filter InvokedAfter), all pages: ends that came with no API call (`exit`, idle timeout, agent loss).
   */
  sessionsSince(afterIso: string): Promise<SessionInfo[]>;
  /** TerminateSession. It reports success even for unknown ids (FACTS.md): confirm with activeSessions. */
  terminateSession(sessionId: string): Promise<void>;
}
