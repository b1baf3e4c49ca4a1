import type { Principal } from '../domain/principal';
import type { Target } from '../domain/target';

export interface SnippetParam {
  pattern: string;
  default?: string;
  description?: string;
}

export interface Snippet {
  name: string;
  description: string;
  run: string;
  targets: readonly string[];
  params: Readonly<Record<string, SnippetParam>>;
  approval: boolean;
  /** Seconds; passed to SendCommand when set. */
  timeout?: number;
  /** SendCommand MaxConcurrency, e.g. `10` or `50%`. */
  maxConcurrency?: string;
  /** SendCommand MaxErrors, e.g. `0` or `10%`. */
  maxErrors?: string;
}

export interface SandboxNode {
  id: string;
  name: string;
  tags: Readonly<Record<string, string>>;
  ping: 'Online' | 'ConnectionLost' | 'Inactive';
}

/** keyturn.yml after validation: frozen, durations in minutes, names filled in. */
export interface Config {
  aws: { accountId: string; region: string };
  slack: { requestsChannel: string; auditChannel: string };
  people: Readonly<Record<string, Principal>>;
  targets: Readonly<Record<string, Target>>;
  snippets: Readonly<Record<string, Snippet>>;
  digest: { at: string; timezone: string };
  sandbox: {
    fleet: readonly SandboxNode[];
    /** Members of Slack user groups, as the sandbox's simulated Slack answers `usergroups.users.list`. */
    userGroups: Readonly<Record<string, readonly string[]>>;
  };
}
