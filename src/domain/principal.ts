/** The AWS identity a Slack user acts as. Mapped explicitly in config, never guessed from e-mail. */
export type Principal = { kind: 'user'; name: string } | { kind: 'role'; name: string };

export function principalArn(accountId: string, p: Principal): string {
  return `arn:aws:iam::${accountId}:${p.kind}/${p.name}`;
}

export function describePrincipal(p: Principal): string {
  return `IAM ${p.kind} ${p.name}`;
}
