/** Session documents a target may permit, in the words users type in config. */
export const DOCUMENT_KINDS = ['shell', 'ssh', 'port-forward'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export const SESSION_DOCUMENTS: Record<DocumentKind, string> = {
  shell: 'SSM-SessionManagerRunShell',
  ssh: 'AWS-StartSSHSession',
  'port-forward': 'AWS-StartPortForwardingSession',
};

export const DOCUMENT_DESCRIPTIONS: Record<DocumentKind, string> = {
  shell: 'an interactive shell (Session Manager)',
  ssh: 'SSH through Session Manager (AWS-StartSSHSession)',
  'port-forward': 'port forwarding (AWS-StartPortForwardingSession)',
};

/** A fleet of nodes that can be requested, identified by tags that every node must carry. */
export interface Target {
  name: string;
  description: string;
  /** The account (id) and region its nodes are in: where its grants, sessions and commands are. */
  account: string;
  region: string;
  tags: Readonly<Record<string, string>>;
  defaultDurationMinutes: number;
  maxDurationMinutes: number;
  /** Slack user ids (U…/W…) and user-group ids (S…). */
  approvers: readonly string[];
  approvals: number;
  selfApproval: boolean;
  documents: readonly DocumentKind[];
  runAs?: string;
  /** The expiry warning DM goes out this long before expiry. */
  warnBeforeMinutes: number;
  /** A pending request nobody decides within this lapses. */
  approvalTimeoutMinutes: number;
  /** Bound on the original duration plus extensions; `maxDurationMinutes` when unset. */
  maxTotalMinutes?: number;
  /** Slack users who may `/run` this target's snippets without holding an active grant on it. */
  runners?: readonly string[];
}

export function isUserGroupId(id: string): boolean {
  return id.startsWith('S');
}

/** Where the target's nodes are. */
export function targetPlace(target: Pick<Target, 'account' | 'region'>): {
  accountId: string;
  region: string;
} {
  return { accountId: target.account, region: target.region };
}
