import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  type ContextEntry,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  type EvaluationResult,
  type IAMClient,
  ListPolicyVersionsCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { principalArn } from '../../domain/principal';
import { type AccessControl, AccessControlError } from '../../ports/access-control';

/** AccessControl on real IAM. Every SDK error leaves as an AccessControlError whose `code` is IAM's error code. */
export function createIamAccessControl(iam: IAMClient, opts: { accountId: string }): AccessControl {
  const { accountId } = opts;

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
        return { arn: out.Policy?.Arn ?? policyArn(accountId, input.path, input.name), created: true };
      } catch (e) {
        // A retried apply after a crash finds its own policy: the ARN is derivable, so no extra call.
        if (iamErrorCode(e) === 'EntityAlreadyExists') {
          return { arn: policyArn(accountId, input.path, input.name), created: false };
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
        // Collect first, delete after: deleting while paging could shift IAM's Marker under us.
        const stale: string[] = [];
        let Marker: string | undefined;
        do {
          const page = await iam.send(new ListPolicyVersionsCommand({ PolicyArn, Marker }));
          for (const v of page.Versions ?? []) {
            if (!v.IsDefaultVersion && v.VersionId) stale.push(v.VersionId);
          }
          Marker = page.IsTruncated ? page.Marker : undefined;
        } while (Marker);

        // DeletePolicy refuses while any non-default version remains (FACTS.md).
        operation = 'DeletePolicyVersion';
        for (const VersionId of stale) {
          try {
            await iam.send(new DeletePolicyVersionCommand({ PolicyArn, VersionId }));
          } catch (e) {
            // A concurrent revoke got there first; the version is gone either way.
            if (iamErrorCode(e) !== 'NoSuchEntity') throw e;
          }
        }

        operation = 'DeletePolicy';
        await iam.send(new DeletePolicyCommand({ PolicyArn }));
        return 'deleted';
      } catch (e) {
        if (iamErrorCode(e) === 'NoSuchEntity') return 'already-gone';
        throw translate(operation, e);
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
              PolicySourceArn: principalArn(accountId, principal),
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

/** IAM managed policy ARNs embed the path: `arn:aws:iam::123456789012:policy/keyturn/keyturn-a1b2`. */
export function policyArn(accountId: string, path: string, name: string): string {
  return `arn:aws:iam::${accountId}:policy${path}${name}`;
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
  const code = iamErrorCode(e) ?? 'Unknown';
  // IAM and SDK messages name ARNs and codes, never the request's credentials or signature.
  const detail = e instanceof Error && e.message ? `: ${e.message}` : '';
  return new AccessControlError(code, `IAM ${operation} failed with ${code}${detail}`, { cause: e });
}
