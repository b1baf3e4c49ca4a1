import type { Place, ServedAccount } from './place';
import type { PolicyDocument } from './policy-document';
import {
  ACCESS_ROLE_PATH,
  type AwsAccount,
  assumedRoleArn,
  iamRoleArn,
  iamUserArn,
  type Principal,
} from './principal';
import type { Target } from './target';

/**
 * Who a Slack user is in AWS: the identity allowed to assume their access role.
 * - `iam-user`: an IAM user, by name and path (`engineering/erin` → path `/engineering/`);
 * - `identity-center`: an IAM Identity Center user, signed in through any `AWSReservedSSO_*` role;
 * - `iam-role`: sessions of an IAM role (federated or shared). With `sessionName`, only the sessions
 *   of that name; without, every session of the role (a role that is one person's own).
 */
export type Identity =
  | { kind: 'iam-user'; name: string; path: string }
  | { kind: 'identity-center'; userName: string }
  | { kind: 'iam-role'; name: string; path?: string; sessionName?: string };

/** A mapped person. `attach: 'direct'` (opt-in) attaches grants to their own IAM user or role instead. */
export interface Person {
  /** Slack user id (`U0ALICE`). */
  user: string;
  identity: Identity;
  attach: 'access-role' | 'direct';
}

/** `keyturn-u0alice`: deterministic, so the deploy and the runtime agree without a lookup. ≤ 64 chars. */
export function accessRoleName(slackUserId: string): string {
  return `keyturn-${slackUserId.toLowerCase()}`;
}

/**
 * The session name the person uses when assuming their access role, pinned by its trust policy
 * (`sts:RoleSessionName`), so the role's sessions are exactly `assumed-role/<role>/<this>`.
 */
export function roleSessionName(identity: Identity): string {
  switch (identity.kind) {
    case 'iam-user':
      return identity.name;
    case 'identity-center':
      return identity.userName;
    case 'iam-role':
      return identity.sessionName ?? identity.name;
  }
}

/**
 * THE mapping from a person to the IAM entity their grants attach to. Everything that needs "the
 * principal of this Slack user" (request, re-verification at apply, session matching) goes through here.
 */
export function personPrincipal(person: Person): Principal {
  if (person.attach === 'direct') {
    const { identity } = person;
    if (identity.kind === 'iam-user') {
      return identity.path === '/'
        ? { kind: 'user', name: identity.name }
        : { kind: 'user', name: identity.name, path: identity.path };
    }
    // The config refuses direct attach for Identity Center users and for shared (sessionName) roles.
    if (identity.kind === 'iam-role') {
      return identity.path === undefined
        ? { kind: 'role', name: identity.name }
        : { kind: 'role', name: identity.name, path: identity.path };
    }
  }
  return {
    kind: 'access-role',
    name: accessRoleName(person.user),
    sessionName: roleSessionName(person.identity),
  };
}

/**
 * Whether a grant for this person can be attached in `accountId`. Keyturn keeps an access role for
 * every person in every served account, but an `attach: direct` person's own IAM user or role lives in
 * Keyturn's own account, and IAM attaches a policy only to users and roles of the policy's account.
 */
export function canAttachIn(
  person: Pick<Person, 'attach'>,
  accountId: string,
  homeAccountId: string,
): boolean {
  return person.attach !== 'direct' || accountId === homeAccountId;
}

/** The principal of a Slack user, or undefined when they are not under `people`. */
export function principalOfUser(
  people: Readonly<Record<string, Person>>,
  user: string,
): Principal | undefined {
  const person = Object.hasOwn(people, user) ? people[user] : undefined;
  return person ? personPrincipal(person) : undefined;
}

/**
 * Identity Center permission-set roles live under `/aws-reserved/sso.amazonaws.com/`, with a region
 * segment in most regions (`…/sso.amazonaws.com/eu-west-1/AWSReservedSSO_…`) and without it in older
 * us-east-1 set-ups: `*AWSReservedSSO_*` covers both (ArnLike's `*` spans `/`).
 */
export function ssoRolePattern(account: AwsAccount): string {
  return `arn:${account.partition}:iam::${account.accountId}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_*`;
}

/** The ARN of the person's access role (path `/keyturn/people/`). */
export function accessRoleArn(account: AwsAccount, person: Pick<Person, 'user'>): string {
  return iamRoleArn(account, accessRoleName(person.user), ACCESS_ROLE_PATH);
}

/** The `Owner` Session Manager records for the person's sessions through their access role. */
export function accessRoleSessionOwner(
  account: AwsAccount,
  person: Pick<Person, 'user' | 'identity'>,
): string {
  return assumedRoleArn(account, accessRoleName(person.user), roleSessionName(person.identity));
}

/**
 * The access role's trust policy: exactly this person, only `sts:AssumeRole` (no `sts:TagSession`, so
 * no identity-provider session tag can override the role's `SSMSessionRunAs` tag), and only with the
 * pinned session name. `aws:userid` of a role session is `<role id>:<session name>` (FACTS.md), and
 * session names cannot contain `:`, so `*:<name>` matches that one name only.
 */
export function trustPolicy(account: AwsAccount, identity: Identity): PolicyDocument {
  const sessionName = roleSessionName(identity);
  const pinnedName = { 'sts:RoleSessionName': sessionName };
  switch (identity.kind) {
    case 'iam-user':
      return trust({ AWS: iamUserArn(account, identity.name, identity.path) }, { StringEquals: pinnedName });
    case 'identity-center':
      return trust(
        { AWS: `arn:${account.partition}:iam::${account.accountId}:root` },
        {
          ArnLike: { 'aws:PrincipalArn': ssoRolePattern(account) },
          StringLike: { 'aws:userid': `*:${identity.userName}` },
          StringEquals: pinnedName,
        },
      );
    case 'iam-role':
      // The role ARN carries the role's path; its sessions' assumed-role ARNs do not (FACTS.md).
      return trust(
        { AWS: iamRoleArn(account, identity.name, identity.path) },
        identity.sessionName === undefined
          ? { StringEquals: pinnedName }
          : { StringLike: { 'aws:userid': `*:${identity.sessionName}` }, StringEquals: pinnedName },
      );
  }
}

function trust(
  principal: { AWS: string },
  condition: Record<string, Record<string, string>>,
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyThisPerson',
        Effect: 'Allow',
        Principal: principal,
        Action: 'sts:AssumeRole',
        Condition: condition,
      },
    ],
  };
}

export function describeIdentity(identity: Identity): string {
  switch (identity.kind) {
    case 'iam-user':
      return `IAM user ${identity.path === '/' ? '' : identity.path.slice(1)}${identity.name}`;
    case 'identity-center':
      return `Identity Center user ${identity.userName}`;
    case 'iam-role':
      return identity.sessionName === undefined
        ? `IAM role ${identity.name}`
        : `IAM role ${identity.name} as ${identity.sessionName}`;
  }
}

/**
 * What the person pastes once into `~/.aws/config` to act through their access role: the AWS CLI
 * assumes `role_arn` with the credentials of `sourceProfile` (their IAM user's keys, their Identity
 * Center profile, or the profile that assumes their shared role), under the pinned session name.
 */
export interface AwsProfile {
  name: string;
  roleArn: string;
  roleSessionName: string;
  region: string;
  /** A placeholder for the profile they already sign in with, and what it should be. */
  sourceProfile: { placeholder: string; meaning: string };
}

export const PROFILE_NAME = 'keyturn';

/**
 * `keyturn` for Keyturn's own account, `keyturn-<alias or id>` for a member account: a person with
 * grants in two accounts pastes two profiles, one per access role, and every command names the right one.
 */
export function profileName(
  homeAccountId: string,
  account: Pick<ServedAccount, 'accountId' | 'alias'>,
): string {
  if (account.accountId === homeAccountId) return PROFILE_NAME;
  return `${PROFILE_NAME}-${account.alias ?? account.accountId}`;
}

/** Keyturn's partition, own account and served accounts (`Config.aws` has this shape). */
export type ProfileAccounts = AwsAccount & { accounts: Readonly<Record<string, ServedAccount>> };

/**
 * The profile of the person's access role in `place`'s account, with `place`'s region. Undefined for
 * an `attach: direct` person: they use their own credentials as before.
 */
export function awsProfile(aws: ProfileAccounts, person: Person, place: Place): AwsProfile | undefined {
  if (person.attach === 'direct') return undefined;
  const { identity } = person;
  const sourceProfile =
    identity.kind === 'iam-user'
      ? { placeholder: 'default', meaning: `the profile with IAM user ${identity.name}'s access keys` }
      : identity.kind === 'identity-center'
        ? {
            placeholder: 'my-sso',
            meaning: `your IAM Identity Center profile (sso_session, sso_account_id, sso_role_name) signed in as ${identity.userName}`,
          }
        : {
            placeholder: identity.name,
            meaning: `the profile that assumes role ${identity.name}${identity.sessionName ? ` with role_session_name = ${identity.sessionName}` : ''}`,
          };
  const account = Object.hasOwn(aws.accounts, place.accountId)
    ? (aws.accounts[place.accountId] as ServedAccount)
    : { accountId: place.accountId };
  return {
    name: profileName(aws.accountId, account),
    roleArn: accessRoleArn({ partition: aws.partition, accountId: place.accountId }, person),
    roleSessionName: roleSessionName(identity),
    region: place.region,
    sourceProfile,
  };
}

/**
 * One profile per account the person may request targets in (every mapped person may ask for any
 * target; approvers decide), Keyturn's own account first, each with the region of that account's first
 * target. Empty for an `attach: direct` person.
 */
export function awsProfiles(
  aws: ProfileAccounts,
  person: Person,
  targets: readonly Pick<Target, 'account' | 'region'>[],
): AwsProfile[] {
  const firstRegion = new Map<string, string>();
  for (const t of targets) if (!firstRegion.has(t.account)) firstRegion.set(t.account, t.region);
  const accounts = [...firstRegion.keys()].sort(
    (a, b) => Number(b === aws.accountId) - Number(a === aws.accountId),
  );
  return accounts.flatMap((accountId) => {
    const profile = awsProfile(aws, person, { accountId, region: firstRegion.get(accountId) as string });
    return profile ? [profile] : [];
  });
}

/** The `~/.aws/config` section, exactly as it is pasted. */
export function profileText(profile: AwsProfile): string {
  return [
    `[profile ${profile.name}]`,
    `role_arn = ${profile.roleArn}`,
    `source_profile = ${profile.sourceProfile.placeholder}`,
    `role_session_name = ${profile.roleSessionName}`,
    `region = ${profile.region}`,
  ].join('\n');
}
