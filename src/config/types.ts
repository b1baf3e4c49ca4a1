import type { Person } from '../domain/person';
import type { ServedAccount } from '../domain/place';
import type { Partition } from '../domain/principal';
import type { Snippet } from '../domain/snippet';
import type { Target } from '../domain/target';

// Snippets are domain values (src/domain/snippet.ts): the rules that check and render them live there.
export type { Snippet, SnippetParam } from '../domain/snippet';

export interface SandboxNode {
  id: string;
  name: string;
  /** The simulated account (id) and region the node is in; absent: Keyturn's own (test fixtures). */
  account?: string;
  region?: string;
  tags: Readonly<Record<string, string>>;
  ping: 'Online' | 'ConnectionLost' | 'Inactive';
}

/** keyturn.yml after validation: frozen, durations in minutes, names filled in. */
export interface Config {
  /**
   * Keyturn's own (home) account and region, and every account it serves, home included, by id. A member
   * account carries the grantor role Keyturn assumes there (src/domain/place.ts).
   */
  aws: {
    accountId: string;
    region: string;
    partition: Partition;
    accounts: Readonly<Record<string, ServedAccount>>;
  };
  slack: {
    requestsChannel: string;
    auditChannel: string;
    /** `all`: every decision and state change gets a line in the audit channel; `anomalies`: only what needs a human. */
    auditEvents: 'all' | 'anomalies';
  };
  /** Slack user id → who they are in AWS (see src/domain/person.ts for the principal grants attach to). */
  people: Readonly<Record<string, Person>>;
  targets: Readonly<Record<string, Target>>;
  snippets: Readonly<Record<string, Snippet>>;
  digest: { at: string; timezone: string };
  /** Where Run Command also writes full output (SendCommand OutputS3BucketName / CloudWatchOutputConfig). */
  commandOutput?: { s3Bucket?: string; s3KeyPrefix?: string; cloudWatchLogGroup?: string };
  sandbox: {
    fleet: readonly SandboxNode[];
    /** Members of Slack user groups, as the sandbox's simulated Slack answers `usergroups.users.list`. */
    userGroups: Readonly<Record<string, readonly string[]>>;
  };
}
