import boundaryTemplate from '../../policies/boundary.json';
import { type Json, MAX_POLICY_CHARS, policyChars, substitute } from './policy';
import type { PolicyDocument } from './policy-document';
import type { AwsAccount } from './principal';
import { err, ok, type Result } from './result';
import { DOCUMENT_KINDS, SESSION_DOCUMENTS, type Target } from './target';

/**
 * Outside `/keyturn/`: Keyturn's own role may create and re-version policies under `policy/keyturn/*`,
 * so the boundary must not live there, or Keyturn could rewrite the very policy that caps it.
 */
export const BOUNDARY_PATH = '/keyturn-boundary/';
export const BOUNDARY_NAME = 'keyturn-access-boundary';

export function boundaryArn(account: AwsAccount): string {
  return `arn:${account.partition}:iam::${account.accountId}:policy${BOUNDARY_PATH}${BOUNDARY_NAME}`;
}

export type BoundaryError = { reason: 'too-large'; chars: number; limit: number };

/**
 * The permissions boundary of every access role: the most any grant can give, whatever its policy
 * says. Session Manager only: StartSession on nodes carrying one configured target's tags (one
 * statement per distinct tag set, since a statement's conditions are ANDed), the session documents
 * some target permits, own-session Terminate/Resume by the documented session-id tag, data channels
 * and read-only discovery. No time window: grants carry theirs; the boundary only caps.
 */
export function renderBoundary(
  aws: AwsAccount & { region: string },
  targets: readonly Pick<Target, 'tags' | 'documents'>[],
): Result<PolicyDocument, BoundaryError> {
  const base = { partition: aws.partition, region: aws.region, accountId: aws.accountId };
  const tagSets = new Map<string, Record<string, Json>>();
  for (const target of targets) {
    const resourceTags: Record<string, Json> = {};
    for (const key of Object.keys(target.tags).sort())
      resourceTags[`ssm:resourceTag/${key}`] = target.tags[key]!;
    tagSets.set(JSON.stringify(resourceTags), resourceTags);
  }
  const nodeStatements = [...tagSets.keys()].sort().map((key, i) =>
    substitute(boundaryTemplate.perTarget, {
      ...base,
      index: String(i + 1),
      resourceTags: tagSets.get(key)!,
    }),
  );
  const documentArns = DOCUMENT_KINDS.filter((kind) => targets.some((t) => t.documents.includes(kind))).map(
    (kind) => `arn:${aws.partition}:ssm:${aws.region}:*:document/${SESSION_DOCUMENTS[kind]}`,
  );
  const common = substitute(boundaryTemplate.common, { ...base, documentArns }) as Json[];
  const doc = {
    Version: '2012-10-17',
    Statement: [...nodeStatements, ...common],
  } as unknown as PolicyDocument;
  const chars = policyChars(doc);
  if (chars > MAX_POLICY_CHARS) return err({ reason: 'too-large', chars, limit: MAX_POLICY_CHARS });
  return ok(doc);
}
