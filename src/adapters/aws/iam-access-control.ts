import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  type ContextEntry,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  type EvaluationResult,
  GetAccountSummaryCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  type PolicyVersion,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  TagUserCommand,
  UntagRoleCommand,
  UntagUserCommand,
} from '@aws-sdk/client-iam';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { type AwsAccount, type Partition, type Principal, principalArn } from '../../domain/principal';
import { type AccessControl, AccessControlError } from '../../ports/access-control';
import { ACCOUNT_UNREACHABLE } from '../../ports/aws-places';
import { AccountUnreachableError } from './assumed-role-credentials';

/** IAM keeps at most this many versions of a managed policy (FACTS.md). */
const MAX_POLICY_VERSIONS = 5;
/** IAM's default attached-policies quota, used only if GetAccountSummary leaves the key out (FACTS.md). */
const DEFAULT_ATTACHED_POLICIES_QUOTA = 10;
/** The tag Session Manager reads for Run As (FACTS.md). */
const RUN_AS_TAG = 'SSMSessionRunAs';

type PolicyEntity = { kind: 'user' | 'role' | 'group'; name: string };

/** AccessControl on real IAM. Every SDK error leaves as an AccessControlError whose `code` is IAM's error code. */
export function createIamAccessControl(
  iam: IAMClient,
  opts: {
    accountId: string;
    /**
     * Read the account's quotas (GetAccountSummary) now, as the container starts, instead of on the
     * first approval: that approval then makes no more IAM calls than any other (issue 13). The worker
     * sets it; functions that never apply a grant leave it off and never read the quotas.
     */
    readQuotasAtStart?: boolean;
    /** `aws` unless given; `Config.aws` carries the one derived from the region. */
    partition?: Partition;
  },
): AccessControl {
  const { accountId } = opts;
  const account: AwsAccount = { accountId, partition: opts.partition ?? 'aws' };
  // Quotas change only through a service-quota request: read once per container, and again only
  // before refusing a grant at the limit (a raised quota must not keep refusing until a redeploy).
  let quotas: Promise<{ user: number; role: number }> | undefined;

  /** Every version of the policy, all pages. Collected before any delete: deleting while paging could shift IAM's Marker. */
  async function listPolicyVersions(PolicyArn: string): Promise<PolicyVersion[]> {
    const versions: PolicyVersion[] = [];
    let Marker: string | undefined;
    do {
      const page = await iam.send(new ListPolicyVersionsCommand({ PolicyArn, Marker }));
      versions.push(...(page.Versions ?? []));
      Marker = page.IsTruncated ? page.Marker : undefined;
    } while (Marker);
    return versions;
  }

  /** Deletes a version; one a concurrent writer already removed counts as deleted. */
  async function deleteVersion(PolicyArn: string, VersionId: string): Promise<void> {
    try {
      await iam.send(new DeletePolicyVersionCommand({ PolicyArn, VersionId }));
    } catch (e) {
      if (iamErrorCode(e) !== 'NoSuchEntity') throw e;
    }
  }

  function readQuotas(): Promise<{ user: number; role: number }> {
    const read = iam.send(new GetAccountSummaryCommand({})).then(({ SummaryMap = {} }) => ({
      user: SummaryMap.AttachedPoliciesPerUserQuota ?? DEFAULT_ATTACHED_POLICIES_QUOTA,
      role: SummaryMap.AttachedPoliciesPerRoleQuota ?? DEFAULT_ATTACHED_POLICIES_QUOTA,
    }));
    quotas = read;
    // A failed read is forgotten, so the next approval asks again instead of failing on a stale error.
    read.catch(() => {
      if (quotas === read) quotas = undefined;
    });
    return read;
  }
  if (opts.readQuotasAtStart) readQuotas().catch(() => undefined);

  async function listAttached(principal: Principal): Promise<string[]> {
    const attached: string[] = [];
    let Marker: string | undefined;
    do {
      const page =
        principal.kind === 'user'
          ? await iam.send(new ListAttachedUserPoliciesCommand({ UserName: principal.name, Marker }))
          : await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: principal.name, Marker }));
      for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) attached.push(p.PolicyArn);
      Marker = page.IsTruncated ? page.Marker : undefined;
    } while (Marker);
    return attached;
  }

  async function detachEntity(PolicyArn: string, entity: PolicyEntity): Promise<void> {
    try {
      if (entity.kind === 'user') {
        await iam.send(new DetachUserPolicyCommand({ UserName: entity.name, PolicyArn }));
      } else if (entity.kind === 'role') {
        await iam.send(new DetachRolePolicyCommand({ RoleName: entity.name, PolicyArn }));
      } else {
        await iam.send(new DetachGroupPolicyCommand({ GroupName: entity.name, PolicyArn }));
      }
    } catch (e) {
      // Detached (or the entity deleted) since the listing: the outcome wanted either way.
      if (iamErrorCode(e) !== 'NoSuchEntity') throw e;
    }
  }

  return {
    async createPolicy(input) {
      try {
        const out = await iam.send(
          new CreatePolicyCommand({
            PolicyName: input.name,
            Path: input.path,
            Description: input.description,
            PolicyDocument: JSON.stringify(input.document),
            Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        return { arn: out.Policy?.Arn ?? policyArn(account, input.path, input.name), created: true };
      } catch (e) {
        // A retried apply after a crash finds its own policy: the ARN is derivable, so no extra call.
        if (iamErrorCode(e) === 'EntityAlreadyExists') {
          return { arn: policyArn(account, input.path, input.name), created: false };
        }
        throw translate('CreatePolicy', e);
      }
    },

    async attachPolicy(principal, PolicyArn) {
      try {
        if (principal.kind === 'user') {
          await iam.send(new AttachUserPolicyCommand({ UserName: principal.name, PolicyArn }));
        } else {
          await iam.send(new AttachRolePolicyCommand({ RoleName: principal.name, PolicyArn }));
        }
      } catch (e) {
        throw translate(principal.kind === 'user' ? 'AttachUserPolicy' : 'AttachRolePolicy', e);
      }
    },

    async detachPolicy(principal, PolicyArn) {
      try {
        if (principal.kind === 'user') {
          await iam.send(new DetachUserPolicyCommand({ UserName: principal.name, PolicyArn }));
        } else {
          await iam.send(new DetachRolePolicyCommand({ RoleName: principal.name, PolicyArn }));
        }
        return 'detached';
      } catch (e) {
        if (iamErrorCode(e) === 'NoSuchEntity') return 'already-gone';
        throw translate(principal.kind === 'user' ? 'DetachUserPolicy' : 'DetachRolePolicy', e);
      }
    },

    async deletePolicy(PolicyArn) {
      let operation = 'ListPolicyVersions';
      try {
        const stale = (await listPolicyVersions(PolicyArn)).flatMap((v) =>
          !v.IsDefaultVersion && v.VersionId ? [v.VersionId] : [],
        );

        // DeletePolicy refuses while any non-default version remains (FACTS.md).
        operation = 'DeletePolicyVersion';
        for (const VersionId of stale) await deleteVersion(PolicyArn, VersionId);

        operation = 'DeletePolicy';
        await iam.send(new DeletePolicyCommand({ PolicyArn }));
        return 'deleted';
      } catch (e) {
        if (iamErrorCode(e) === 'NoSuchEntity') return 'already-gone';
        throw translate(operation, e);
      }
    },

    async createPolicyVersion(PolicyArn, document) {
      const PolicyDocument = JSON.stringify(document);
      let operation = 'ListPolicyVersions';
      try {
        // Two rounds at most: a second means another writer took the slot we freed, so free one again.
        for (let round = 1; ; round++) {
          operation = 'ListPolicyVersions';
          const versions = await listPolicyVersions(PolicyArn);
          // IAM refuses a sixth version with LimitExceeded (FACTS.md); the default is never the one to go.
          operation = 'DeletePolicyVersion';
          for (const VersionId of oldestNonDefault(versions, versions.length - (MAX_POLICY_VERSIONS - 1))) {
            await deleteVersion(PolicyArn, VersionId);
          }
          operation = 'CreatePolicyVersion';
          try {
            // SetAsDefault switches atomically: there is no moment with neither window in force.
            await iam.send(new CreatePolicyVersionCommand({ PolicyArn, PolicyDocument, SetAsDefault: true }));
            return;
          } catch (e) {
            if (round < 2 && iamErrorCode(e) === 'LimitExceeded') continue;
            throw e;
          }
        }
      } catch (e) {
        throw translate(operation, e);
      }
    },

    async listPolicies(PathPrefix) {
      try {
        const policies: { arn: string; name: string }[] = [];
        let Marker: string | undefined;
        do {
          const page = await iam.send(
            new ListPoliciesCommand({ Scope: 'Local', PathPrefix, OnlyAttached: false, Marker }),
          );
          for (const p of page.Policies ?? []) {
            if (p.Arn && p.PolicyName) policies.push({ arn: p.Arn, name: p.PolicyName });
          }
          Marker = page.IsTruncated ? page.Marker : undefined;
        } while (Marker);
        return policies;
      } catch (e) {
        throw translate('ListPolicies', e);
      }
    },

    async detachFromAll(PolicyArn) {
      let operation = 'ListEntitiesForPolicy';
      try {
        const entities: PolicyEntity[] = [];
        let Marker: string | undefined;
        do {
          const page = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn, Marker }));
          for (const u of page.PolicyUsers ?? [])
            if (u.UserName) entities.push({ kind: 'user', name: u.UserName });
          for (const r of page.PolicyRoles ?? [])
            if (r.RoleName) entities.push({ kind: 'role', name: r.RoleName });
          for (const g of page.PolicyGroups ?? []) {
            if (g.GroupName) entities.push({ kind: 'group', name: g.GroupName });
          }
          Marker = page.IsTruncated ? page.Marker : undefined;
        } while (Marker);

        for (const entity of entities) {
          operation = `Detach${entity.kind === 'user' ? 'User' : entity.kind === 'role' ? 'Role' : 'Group'}Policy`;
          await detachEntity(PolicyArn, entity);
        }
        return entities;
      } catch (e) {
        // A policy that no longer exists is attached to nobody.
        if (operation === 'ListEntitiesForPolicy' && iamErrorCode(e) === 'NoSuchEntity') return [];
        throw translate(operation, e);
      }
    },

    async attachedPolicyQuota(principal) {
      let operation = principal.kind === 'user' ? 'ListAttachedUserPolicies' : 'ListAttachedRolePolicies';
      try {
        const attached = await listAttached(principal);
        operation = 'GetAccountSummary';
        const pick = (q: { user: number; role: number }) => (principal.kind === 'user' ? q.user : q.role);
        let quota = pick(await (quotas ?? readQuotas()));
        // At the limit by the cached figure: read it again before the caller refuses on it.
        if (attached.length >= quota) quota = pick(await readQuotas());
        return { attached, quota };
      } catch (e) {
        throw translate(operation, e);
      }
    },

    async setRunAs(principal, osUser) {
      const Tags = [{ Key: RUN_AS_TAG, Value: osUser }];
      try {
        if (principal.kind === 'user') {
          await iam.send(new TagUserCommand({ UserName: principal.name, Tags }));
        } else {
          await iam.send(new TagRoleCommand({ RoleName: principal.name, Tags }));
        }
      } catch (e) {
        throw translate(principal.kind === 'user' ? 'TagUser' : 'TagRole', e);
      }
    },

    async clearRunAs(principal) {
      const TagKeys = [RUN_AS_TAG];
      try {
        // Untagging an absent key succeeds in IAM; only a missing principal raises NoSuchEntity.
        if (principal.kind === 'user') {
          await iam.send(new UntagUserCommand({ UserName: principal.name, TagKeys }));
        } else {
          await iam.send(new UntagRoleCommand({ RoleName: principal.name, TagKeys }));
        }
      } catch (e) {
        if (iamErrorCode(e) === 'NoSuchEntity') return;
        throw translate(principal.kind === 'user' ? 'UntagUser' : 'UntagRole', e);
      }
    },

    async canStartSession(principal, check) {
      const ContextEntries: ContextEntry[] = [
        ...Object.entries(check.tags).map(([key, value]) => ({
          ContextKeyName: `ssm:resourceTag/${key}`,
          ContextKeyType: 'string' as const,
          ContextKeyValues: [value],
        })),
        { ContextKeyName: 'aws:CurrentTime', ContextKeyType: 'date', ContextKeyValues: [check.at] },
      ];
      try {
        const results: EvaluationResult[] = [];
        let Marker: string | undefined;
        do {
          const page = await iam.send(
            new SimulatePrincipalPolicyCommand({
              // An access role's ARN (path /keyturn/people/). "The simulation includes all policies that
              // are associated with that entity" (SimulatePrincipalPolicy, PolicySourceArn), its permissions
              // boundary too; PermissionsBoundaryPolicyInputList would replace it, so it is not sent.
              PolicySourceArn: principalArn(account, principal),
              ActionNames: ['ssm:StartSession'],
              ResourceArns: [check.nodeArn],
              ContextEntries,
              Marker,
            }),
          );
          results.push(...(page.EvaluationResults ?? []));
          Marker = page.IsTruncated ? page.Marker : undefined;
        } while (Marker);
        // 'explicitDeny' and 'implicitDeny' both mean no; an empty answer proves nothing, so it is no too.
        return results.length > 0 && results.every((r) => r.EvalDecision === 'allowed');
      } catch (e) {
        throw translate('SimulatePrincipalPolicy', e);
      }
    },
  };
}

/**
 * The ids of the `count` oldest non-default versions, by CreateDate (then by number, IAM's own order:
 * `v2` before `v10`), so the versions kept are the newest ones.
 */
function oldestNonDefault(versions: readonly PolicyVersion[], count: number): string[] {
  if (count <= 0) return [];
  const versionNumber = (id: string) => Number(id.replace(/^v/, ''));
  return versions
    .flatMap((v) =>
      !v.IsDefaultVersion && v.VersionId ? [{ id: v.VersionId, created: v.CreateDate?.getTime() ?? 0 }] : [],
    )
    .sort((a, b) => a.created - b.created || versionNumber(a.id) - versionNumber(b.id))
    .slice(0, count)
    .map((v) => v.id);
}

/** IAM managed policy ARNs embed the path: `arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2`. */
export function policyArn(account: AwsAccount, path: string, name: string): string {
  return `arn:${account.partition}:iam::${account.accountId}:policy${path}${name}`;
}

/**
 * IAM's own error code ("NoSuchEntity"). Errors parsed off the wire carry it in `Code`; modelled
 * exceptions constructed in code only have the class name ("NoSuchEntityException"), unmodelled
 * ones ("Throttling") have the code as their name.
 */
function iamErrorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { Code, name, code } = e as { Code?: unknown; name?: unknown; code?: unknown };
  if (typeof Code === 'string' && Code !== '') return Code;
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name.replace(/Exception$/, '');
  // Node's socket errors (ECONNREFUSED, ETIMEDOUT) reach us unwrapped once the SDK stops retrying.
  if (typeof code === 'string' && code !== '') return code;
  return undefined;
}

function translate(operation: string, e: unknown): AccessControlError {
  // The grantor role's credentials could not be had: the SDK hands the provider's rejection back as
  // it is, before signing, so IAM never saw the call. Transient: STS, or the deploy, may be fixed.
  if (e instanceof AccountUnreachableError) {
    // Its sentence as it is (which account, which role, what to check): callers show it to people.
    return new AccessControlError(ACCOUNT_UNREACHABLE, e.message, { cause: e, transient: true });
  }
  const code = iamErrorCode(e) ?? 'Unknown';
  // IAM and SDK messages name ARNs and codes, never the request's credentials or signature.
  const detail = e instanceof Error && e.message ? `: ${e.message}` : '';
  return new AccessControlError(code, `IAM ${operation} failed with ${code}${detail}`, {
    cause: e,
    transient: isTransient(e),
  });
}

/** The SDK's own classification (the one its retry strategy uses): throttling, 5xx, timeouts, the network. */
function isTransient(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const error = e as Parameters<typeof isTransientError>[0];
  return isThrottlingError(error) || isTransientError(error) || isServerError(error);
}
