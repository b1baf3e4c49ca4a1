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
  targets: readonly (Pick<Target, 'tags' | 'documents'> & { region?: string })[],
): Result<PolicyDocument, BoundaryError> {
  const base = { partition: aws.partition, region: aws.region, accountId: aws.accountId };
  // A target's nodes are in its own region (aws.region when it names none): one statement per distinct
  // (region, tag set), and the session documents per region.
  const regionOf = (target: { region?: string }) => target.region ?? aws.region;
  const tagSets = new Map<string, { region: string; resourceTags: Record<string, Json> }>();
  for (const target of targets) {
    const resourceTags: Record<string, Json> = {};
    for (const key of Object.keys(target.tags).sort())
      resourceTags[`ssm:resourceTag/${key}`] = target.tags[key]!;
    const region = regionOf(target);
    tagSets.set(JSON.stringify([region, resourceTags]), { region, resourceTags });
  }
  const nodeStatements = [...tagSets.keys()].sort().map((key, i) => {
    const { region, resourceTags } = tagSets.get(key)!;
    return substitute(boundaryTemplate.perTarget, { ...base, region, index: String(i + 1), resourceTags });
  });
  const regions = [...new Set(targets.map(regionOf))].sort();
  const documentArns = regions.flatMap((region) =>
    DOCUMENT_KINDS.filter((kind) =>
      targets.some((t) => regionOf(t) === region && t.documents.includes(kind)),
    ).map((kind) => `arn:${aws.partition}:ssm:${region}:*:document/${SESSION_DOCUMENTS[kind]}`),
  );
  // No target (an account whose targets are all elsewhere): no document either, and no empty Resource.
  const common = (substitute(boundaryTemplate.common, { ...base, documentArns }) as Json[]).filter(
    (statement) =>
      documentArns.length > 0 || (statement as { Sid?: string }).Sid !== 'StartSessionWithPermittedDocuments',
  );
  const doc = {
    Version: '2012-10-17',
    Statement: [...nodeStatements, ...common],
  } as unknown as PolicyDocument;
  const chars = policyChars(doc);
  if (chars > MAX_POLICY_CHARS) return err({ reason: 'too-large', chars, limit: MAX_POLICY_CHARS });
  return ok(doc);
}
