/** The AWS identity a Slack user acts as. Mapped explicitly in config, never guessed from e-mail. */
export type Principal = { kind: 'user'; name: string } | { kind: 'role'; name: string };

export function principalArn(accountId: string, p: Principal): string {
  return `arn:aws:iam::${accountId}:${p.kind}/${p.name}`;
}

export function describePrincipal(p: Principal): string {
  return `IAM ${p.kind} ${p.name}`;
}

/**
 * Whether a Session Manager session's `Owner` is this principal. IAM users own sessions as their user
 * ARN; a role's sessions are owned by the assumed-role ARN of whoever assumed it.
 */
export function ownsSession(accountId: string, p: Principal, owner: string): boolean {
  if (p.kind === 'user') return owner === principalArn(accountId, p);
  return (
    owner === principalArn(accountId, p) ||
    owner.startsWith(`arn:aws:sts::${accountId}:assumed-role/${p.name}/`)
  );
}

/**
 * The exact session `Owner` this principal's Session Manager sessions carry, for DescribeSessions'
 * `Owner` filter, when one ARN names them all: an IAM user's own ARN. A role's sessions are owned by
 * `arn:aws:sts::<acct>:assumed-role/<role>/<session name>`, one per whoever assumed it, so there is
 * none to filter on (undefined): the caller lists every active session and keeps those
 * `ownsSession` accepts. With per-person access roles (issue 12) the role's case becomes that ARN.
 */
export function sessionOwner(accountId: string, p: Principal): string | undefined {
  return p.kind === 'user' ? principalArn(accountId, p) : undefined;
}
