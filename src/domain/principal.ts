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
