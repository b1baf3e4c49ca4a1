/** `aws`, `aws-cn` or `aws-us-gov`: the second field of every ARN (FACTS.md, Session Manager). */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** The account Keyturn manages, as ARNs need it. `Config.aws` has this shape. */
export interface AwsAccount {
  partition: Partition;
  accountId: string;
}

/** Regions name their partition: `cn-north-1` is aws-cn, `us-gov-west-1` aws-us-gov, the rest aws. */
export function partitionOfRegion(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Where every access role lives; Keyturn's own role may attach policies only to roles under it. */
export const ACCESS_ROLE_PATH = '/keyturn/people/';

/**
 * The IAM entity a grant policy is attached to, and whose sessions are that person's.
 * - `access-role`: the Keyturn-owned role of one person (the default); its sessions are exactly
 *   `assumed-role/<name>/<sessionName>`, because its trust policy pins the session name.
 * - `user` / `role`: the person's own IAM user or role, only with the explicit `attach: direct` opt-in.
 */
export type Principal =
  | { kind: 'access-role'; name: string; sessionName: string }
  | { kind: 'user'; name: string; path?: string }
  | { kind: 'role'; name: string; path?: string };

/** `arn:aws:iam::123456789012:user/engineering/erin`: IAM user ARNs carry the path (FACTS.md). */
export function iamUserArn(account: AwsAccount, name: string, path = '/'): string {
  return `arn:${account.partition}:iam::${account.accountId}:user${path}${name}`;
}

export function iamRoleArn(account: AwsAccount, name: string, path = '/'): string {
  return `arn:${account.partition}:iam::${account.accountId}:role${path}${name}`;
}

/** An assumed-role ARN carries no role path (FACTS.md): this is a role session's `Owner` in Session Manager. */
export function assumedRoleArn(account: AwsAccount, roleName: string, sessionName: string): string {
  return `arn:${account.partition}:sts::${account.accountId}:assumed-role/${roleName}/${sessionName}`;
}

export function principalArn(account: AwsAccount, p: Principal): string {
  switch (p.kind) {
    case 'access-role':
      return iamRoleArn(account, p.name, ACCESS_ROLE_PATH);
    case 'user':
      return iamUserArn(account, p.name, p.path);
    case 'role':
      return iamRoleArn(account, p.name, p.path);
  }
}

export function describePrincipal(p: Principal): string {
  if (p.kind === 'access-role') return `access role ${p.name}`;
  return `IAM ${p.kind} ${p.name}`;
}

/** Same IAM entity (IAM names are unique per account and kind; the path is part of the name's ARN only). */
export function samePrincipal(a: Principal, b: Principal): boolean {
  if (a.kind !== b.kind || a.name !== b.name) return false;
  if (a.kind === 'access-role' && b.kind === 'access-role') return a.sessionName === b.sessionName;
  return true;
}

/**
 * Whether a Session Manager session's `Owner` is this principal's.
 * - an access role's sessions: exactly `assumed-role/<access role>/<its pinned session name>`;
 * - an IAM user: the user ARN, path included (`user/engineering/erin`);
 * - a directly attached role: any session of it (a direct role cannot tell its users apart).
 */
export function ownsSession(account: AwsAccount, p: Principal, owner: string): boolean {
  switch (p.kind) {
    case 'access-role':
      return owner === assumedRoleArn(account, p.name, p.sessionName);
    case 'user':
      return owner === principalArn(account, p);
    case 'role':
      return (
        owner === principalArn(account, p) ||
        owner.startsWith(`arn:${account.partition}:sts::${account.accountId}:assumed-role/${p.name}/`)
      );
  }
}

/**
 * The exact session `Owner` this principal's Session Manager sessions carry, for DescribeSessions'
 * `Owner` filter, when one ARN names them all: an access role's pinned session
 * (`arn:<partition>:sts::<acct>:assumed-role/<access role>/<session name>`, its trust policy admits
 * no other session name) or an IAM user's own ARN (path included). A directly attached role's
 * sessions are owned by one ARN per whoever assumed it, so there is none to filter on (undefined):
 * the caller lists every active session and keeps those `ownsSession` accepts. Callers keep
 * filtering with `ownsSession` either way.
 */
export function sessionOwner(account: AwsAccount, p: Principal): string | undefined {
  switch (p.kind) {
    case 'access-role':
      return assumedRoleArn(account, p.name, p.sessionName);
    case 'user':
      return principalArn(account, p);
    case 'role':
      return undefined;
  }
}
