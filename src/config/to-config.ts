import type { Identity, Person } from '../domain/person';
import { defaultGrantorRoleArn, type ServedAccount } from '../domain/place';
import { partitionOfRegion } from '../domain/principal';
import type { Target } from '../domain/target';
import type { ParsedConfig } from './schema';
import { defaultRegion, resolveAccount } from './schema/settings';
import type { Config, Snippet, SnippetParam } from './types';

/*
 * Validated input → Config: the values the rest of Keyturn reads, with names filled in, durations in
 * minutes, IAM paths split from names and the partition derived from the region. The schema (./schema) has
 * already refused anything these conversions could trip on.
 */

/** `engineering/erin` → name `erin`, path `/engineering/` (IAM paths start and end with a slash). */
function nameAndPath(value: string): { name: string; path: string } {
  const parts = value.split('/');
  const name = parts.pop() ?? '';
  return { name, path: parts.length === 0 ? '/' : `/${parts.join('/')}/` };
}

/** The schema guarantees exactly one of iamUser, identityCenter, iamRole. */
function toIdentity(p: ParsedConfig['people'][string]): Identity {
  if (p.iamUser !== undefined) return { kind: 'iam-user', ...nameAndPath(p.iamUser) };
  if (p.identityCenter !== undefined) return { kind: 'identity-center', userName: p.identityCenter };
  const role = nameAndPath(p.iamRole ?? '');
  const withPath = role.path === '/' ? { name: role.name } : role;
  return p.sessionName === undefined
    ? { kind: 'iam-role', ...withPath }
    : { kind: 'iam-role', ...withPath, sessionName: p.sessionName };
}

/** The schema's cross-checks (checkPlaces) have refused undeclared accounts and regions. */
function placeOf(
  aws: ParsedConfig['aws'],
  where: { account?: string | undefined; region?: string | undefined },
) {
  const account = resolveAccount(aws, where.account);
  if (!account) throw new Error(`account ${where.account} is not declared`);
  return { account: account.accountId, region: where.region ?? defaultRegion(aws, account) };
}

function servedAccounts(aws: ParsedConfig['aws'], partition: Config['aws']['partition']) {
  const home: ServedAccount = {
    accountId: aws.accountId,
    ...(aws.alias !== undefined && { alias: aws.alias }),
    regions: [...(aws.regions ?? [aws.region])],
  };
  const members = aws.accounts.map(
    (a): ServedAccount => ({
      accountId: a.accountId,
      ...(a.alias !== undefined && { alias: a.alias }),
      regions: [...a.regions],
      grantorRoleArn: a.grantorRole ?? defaultGrantorRoleArn(partition, a.accountId),
    }),
  );
  return Object.fromEntries([home, ...members].map((a) => [a.accountId, a]));
}

export function toConfig(c: ParsedConfig): Config {
  const partition = c.aws.partition ?? partitionOfRegion(c.aws.region);
  return {
    aws: {
      accountId: c.aws.accountId,
      region: c.aws.region,
      partition,
      accounts: servedAccounts(c.aws, partition),
    },
    slack: {
      requestsChannel: c.slack.requestsChannel,
      auditChannel: c.slack.auditChannel,
      auditEvents: c.slack.auditEvents,
    },
    people: mapValues(
      c.people,
      (p, user): Person => ({
        user,
        identity: toIdentity(p),
        attach: p.attach === 'direct' ? 'direct' : 'access-role',
      }),
    ),
    targets: mapValues(
      c.targets,
      (t, name): Target => ({
        name,
        description: t.description,
        ...placeOf(c.aws, t),
        tags: { ...t.tags },
        defaultDurationMinutes: t.defaultDuration,
        maxDurationMinutes: t.maxDuration,
        approvers: [...t.approvers],
        approvals: t.approvals,
        selfApproval: t.selfApproval,
        documents: [...t.documents],
        ...(t.runAs !== undefined && { runAs: t.runAs }),
        warnBeforeMinutes: t.warnBefore,
        approvalTimeoutMinutes: t.approvalTimeout,
        ...(t.maxTotal !== undefined && { maxTotalMinutes: t.maxTotal }),
        runners: [...t.runners],
      }),
    ),
    snippets: mapValues(
      c.snippets,
      (s, name): Snippet => ({
        name,
        description: s.description,
        run: s.run,
        targets: [...s.targets],
        params: mapValues(
          s.params,
          (p): SnippetParam => ({
            pattern: p.pattern,
            ...(p.default !== undefined && { default: p.default }),
            ...(p.description !== undefined && { description: p.description }),
          }),
        ),
        approval: s.approval,
        ...(s.timeout !== undefined && { timeout: s.timeout }),
        ...(s.deliveryTimeout !== undefined && { deliveryTimeout: s.deliveryTimeout }),
        ...(s.maxConcurrency !== undefined && { maxConcurrency: s.maxConcurrency }),
        ...(s.maxErrors !== undefined && { maxErrors: s.maxErrors }),
      }),
    ),
    digest: { at: c.digest.at, timezone: c.digest.timezone },
    ...(c.commandOutput !== undefined && { commandOutput: { ...c.commandOutput } }),
    sandbox: {
      fleet: c.sandbox.fleet.map((n) => ({
        id: n.id,
        name: n.name,
        ...placeOf(c.aws, n),
        tags: { ...n.tags },
        ping: n.ping,
      })),
      userGroups: mapValues(c.sandbox.userGroups, (members) => [...members]),
    },
  };
}

function mapValues<A, B>(record: Record<string, A>, f: (value: A, key: string) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value, key)]));
}
