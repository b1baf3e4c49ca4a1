import type { AuditLine } from '../domain/audit-line';
import type { CommandRun } from '../domain/command-run';
import type { AwsProfile } from '../domain/person';
import type { Extension, Grant, MessageRef } from '../domain/grant';
import type { ManagedNode } from '../domain/node';
import type { Target } from '../domain/target';

/** What an approval card shows; the Slack adapter turns it into Block Kit. */
export interface RequestCardView {
  grant: Grant;
  target: Target;
  nodes: readonly ManagedNode[];
}

/** The approval card for extending an active grant. */
export interface ExtensionCardView {
  grant: Grant;
  target: Target;
  extension: Extension;
  /** The expiry if approved, and the grant's total length then, in minutes. */
  newExpiresAt: string;
  totalMinutes: number;
  /** How the extension ended, once it has: approved (and applied), denied, or dropped with the grant. */
  outcome?: { kind: 'extended' | 'denied' | 'dropped'; by?: string; reason?: string };
}

/** Personal messages to a requester, by DM. */
export type Notice =
  | { kind: 'approved'; grant: Grant; target: Target }
  | { kind: 'denied'; grant: Grant; target: Target }
  | {
      kind: 'ready';
      grant: Grant;
      target: Target;
      nodes: readonly ManagedNode[];
      region: string;
      /** The `~/.aws/config` profile of the requester's access role; absent for `attach: direct`. */
      profile?: AwsProfile;
    }
  | { kind: 'failed'; grant: Grant; target: Target }
  /** Sent once, `warnBefore` ahead of expiry, with [I'm done] and [Extend]. */
  | { kind: 'warning'; grant: Grant; target: Target }
  /** The grant ended: expired, released, revoked (`grant.ending` says by whom and why) or failed after activation. */
  | { kind: 'ended'; grant: Grant; target: Target }
  | { kind: 'lapsed'; grant: Grant; target: Target }
  | { kind: 'extended'; grant: Grant; target: Target }
  | { kind: 'extension-denied'; grant: Grant; target: Target; by: string; reason?: string };

/** Messages for the audit channel: things a human should look at. */
export type AuditEvent =
  | {
      kind: 'orphan-policy-removed';
      policyArn: string;
      grantId?: string;
      detachedFrom: readonly { kind: 'user' | 'role' | 'group'; name: string }[];
    }
  | { kind: 'sessions-not-ended'; grant: Grant; sessionIds: readonly string[] }
  | { kind: 'policy-missing'; grant: Grant }
  | { kind: 'revoke-failed'; grant: Grant; error: string }
  /**
   * Accounts Keyturn could not reach (their grantor role could not be assumed): the revokes of these
   * grants, each over five minutes past due, wait until it can. One message per sweep at most, each
   * grant in one message only.
   */
  | {
      kind: 'accounts-unreachable';
      accounts: readonly { accountId: string; alias?: string; error: string; grants: readonly Grant[] }[];
    }
  /**
   * The worker refused to act on a grant (its approval or extension) or a run because the stored
   * record does not hold up against the configuration and its own history: nothing was created or sent.
   */
  | { kind: 'grant-refused'; grant: Grant; step: 'apply' | 'extension'; reason: string }
  | { kind: 'run-refused'; run: CommandRun; reason: string };

/** What one person's App Home shows (issue 15 point 2); the Slack adapter turns it into a Home tab. */
export interface HomeView {
  user: string;
  /** The person's own active grants, and their requests waiting for a decision. */
  active: readonly Grant[];
  pending: readonly Grant[];
  /** For approvers: requests on their targets they may decide, and active grants on their targets. */
  waitingForMe: readonly Grant[];
  /** For approvers: active grants on their targets whose extension (`extension.state === 'pending'`) they may decide. */
  extensionsWaitingForMe: readonly Grant[];
  activeOnMyTargets: readonly Grant[];
  targets: Readonly<Record<string, Target>>;
  /** The nodes each of the person's active grants reaches, by target name. */
  nodes: Readonly<Record<string, readonly ManagedNode[]>>;
}

/** Slack, as the use cases need it. */
export interface Chat {
  postRequestCard(channel: string, view: RequestCardView): Promise<MessageRef>;
  updateRequestCard(ref: MessageRef, view: RequestCardView): Promise<void>;
  postExtensionCard(channel: string, view: ExtensionCardView): Promise<MessageRef>;
  updateExtensionCard(ref: MessageRef, view: ExtensionCardView): Promise<void>;
  notify(user: string, notice: Notice): Promise<void>;
  postAudit(channel: string, event: AuditEvent): Promise<void>;
  /** One line of the audit trail (`slack.auditEvents: all`), linking to the thread it is about. */
  postAuditLine(channel: string, line: AuditLine): Promise<void>;
  /** Replaces the person's Home tab (views.publish). */
  publishHome(user: string, view: HomeView): Promise<void>;
  /** Members of a Slack user group (`S…`); adapters cache this. */
  userGroupMembers(groupId: string): Promise<readonly string[]>;
}

/**
 * What the Slack listeners ask of Slack beyond their own answers: the approver groups' members. Cards,
 * notices, audit and the Home tab are posted by the worker, so the slack function carries none of
 * their views (issue 13).
 */
export type AckChat = Pick<Chat, 'userGroupMembers'>;
