import type { Simulation } from '@cloud-copilot/iam-simulate';
import { type Person, trustPolicy } from '../../domain/person';
import type { PolicyDocument } from '../../domain/policy-document';
import {
  ACCESS_ROLE_PATH,
  type AwsAccount,
  assumedRoleArn,
  iamRoleArn,
  iamUserArn,
  type Principal,
  principalArn,
} from '../../domain/principal';
import { AccessControlError } from '../../ports/access-control';

/**
 * How the simulated account judges a request: a real IAM policy evaluator (iam-simulate) over the
 * principal's attached policies, its permissions boundary and, for an access role, the role's trust
 * policy, with the context keys AWS fills in (aws:userid, aws:username, session tags).
 */
export type Decision = 'allowed' | 'denied';

export interface IamRequest {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/** iam-simulate is AGPL-3.0, a devDependency only: loaded on first use so a Lambda never loads it (FACTS.md). */
function iamSimulate(): typeof import('@cloud-copilot/iam-simulate') {
  return require('@cloud-copilot/iam-simulate') as typeof import('@cloud-copilot/iam-simulate');
}

/** A made-up but stable unique id part for an IAM name, as IAM's ids are 17 characters after their prefix. */
function uniqueId(name: string): string {
  return name
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .padEnd(17, '0');
}

/**
 * `aws:userid` as IAM reports it: a unique id for users, `<role id>:<session name>` for roles.
 * The ids are made up but stable, so sandbox session ids (`<userid>-…`) match grant policies.
 */
export function userId(principal: Principal): string {
  const id = uniqueId(principal.name);
  if (principal.kind === 'user') return `AIDA${id}`;
  return `AROA${id}:${principal.kind === 'access-role' ? principal.sessionName : principal.name}`;
}

/** Session ids start with the caller, which is what grant policies match to let them end their own. */
export function sessionIdPrefix(principal: Principal): string {
  if (principal.kind === 'user') return principal.name;
  // A role session's id starts with its session name (FACTS.md: `Matt-07a16060613c408b5`).
  return principal.kind === 'access-role' ? principal.sessionName : principal.name;
}

/** The role session name is the role's name here, as in `userId`. */
export function sessionOwner(account: AwsAccount, principal: Principal): string {
  if (principal.kind === 'user') return principalArn(account, principal);
  const sessionName = principal.kind === 'access-role' ? principal.sessionName : principal.name;
  return assumedRoleArn(account, principal.name, sessionName);
}

export function tagContext(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`ssm:resourceTag/${k}`, v]));
}

/**
 * Session Manager tags every session `aws:ssmmessages:session-id` = its starter's `aws:userid`
 * (FACTS.md), which is what own-session statements match; known sessions carry it here too.
 */
export function sessionTagContext(starter: Principal | undefined): Record<string, string> {
  return starter ? { 'ssm:resourceTag/aws:ssmmessages:session-id': userId(starter) } : {};
}

function identityContext(principal: Principal): Record<string, string> {
  // aws:username exists only for IAM users (FACTS.md); roles are told apart by aws:userid.
  return principal.kind === 'user'
    ? { 'aws:username': principal.name, 'aws:userid': userId(principal) }
    : { 'aws:userid': userId(principal) };
}

/** A request by the principal against its identity policies (and, for an access role, the boundary). */
export async function evaluateIdentity(input: {
  account: AwsAccount;
  principal: Principal;
  request: IamRequest;
  now: string;
  identityPolicies: { name: string; policy: PolicyDocument }[];
  boundary: PolicyDocument | undefined;
  /** Tags of the session the request acts on, if it acts on a known one. */
  sessionTags: Record<string, string>;
}): Promise<Decision> {
  const { account, principal, request, boundary } = input;
  const simulation: Simulation = {
    request: {
      // The caller is the principal's session: an access role acts as `assumed-role/<role>/<session name>`.
      principal:
        principal.kind === 'access-role'
          ? sessionOwner(account, principal)
          : principalArn(account, principal),
      action: request.action,
      resource: { resource: request.resource, accountId: account.accountId },
      contextVariables: {
        'aws:CurrentTime': input.now,
        ...identityContext(principal),
        ...input.sessionTags,
        ...request.context,
      },
    },
    identityPolicies: input.identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(principal.kind === 'access-role' &&
      boundary && {
        permissionBoundaryPolicies: [{ name: 'keyturn-access-boundary', policy: boundary }],
      }),
  };
  const result = await iamSimulate().runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new AccessControlError('InvalidInput', `policy evaluation failed: ${result.errors.message}`);
  }
  return result.overallResult === 'Allowed' ? 'allowed' : 'denied';
}

/**
 * Whether a person may assume their access role with the session name `sessionName`: the role's trust
 * policy, evaluated as its resource policy for sts:AssumeRole by the person's own identity. An
 * Identity Center user arrives through an AWSReservedSSO_* session whose permission set allows
 * sts:AssumeRole on access roles.
 *
 * The person's identity is in `home` (Keyturn's own account; `account` when absent): an access role in
 * a member account trusts it there (deploy/grantor.ts), so assuming it is a cross-account call, which
 * needs both the role's trust policy and the identity's own policy to allow it.
 */
export async function mayAssumeAccessRole(input: {
  account: AwsAccount;
  home?: AwsAccount;
  region: string;
  roleName: string;
  sessionName: string;
  person: Person;
}): Promise<boolean> {
  const { account: roleAccount, roleName, sessionName } = input;
  // Where the person's identity is: every ARN of the caller below names this account.
  const account = input.home ?? roleAccount;
  const { identity } = input.person;
  let arn: string;
  let context: Record<string, string>;
  if (identity.kind === 'iam-user') {
    arn = iamUserArn(account, identity.name, identity.path);
    context = {
      'aws:PrincipalArn': arn,
      'aws:username': identity.name,
      'aws:userid': `AIDA${uniqueId(identity.name)}`,
    };
  } else if (identity.kind === 'identity-center') {
    const permissionSet = 'AWSReservedSSO_Sandbox_0123456789abcdef';
    arn = assumedRoleArn(account, permissionSet, identity.userName);
    context = {
      'aws:PrincipalArn': iamRoleArn(
        account,
        permissionSet,
        `/aws-reserved/sso.amazonaws.com/${input.region}/`,
      ),
      'aws:userid': `AROA${uniqueId(permissionSet)}:${identity.userName}`,
    };
  } else {
    arn = assumedRoleArn(account, identity.name, identity.sessionName ?? identity.name);
    context = {
      'aws:PrincipalArn': iamRoleArn(account, identity.name, identity.path),
      'aws:userid': `AROA${uniqueId(identity.name)}:${identity.sessionName ?? identity.name}`,
    };
  }
  const result = await iamSimulate().runSimulation(
    {
      request: {
        principal: arn,
        action: 'sts:AssumeRole',
        resource: {
          resource: iamRoleArn(roleAccount, roleName, ACCESS_ROLE_PATH),
          accountId: roleAccount.accountId,
        },
        contextVariables: {
          ...context,
          'aws:PrincipalAccount': account.accountId,
          // The session name the caller asks for; the trust policy pins the one it accepts.
          'sts:RoleSessionName': sessionName,
        },
      },
      identityPolicies: [
        {
          name: 'assume-access-roles',
          policy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'sts:AssumeRole',
                Resource: iamRoleArn(roleAccount, '*', ACCESS_ROLE_PATH),
              },
            ],
          },
        },
      ],
      resourcePolicy: trustPolicy(account, identity),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  return result.resultType !== 'error' && result.overallResult === 'Allowed';
}
