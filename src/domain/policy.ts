import readOnlyTemplate from '../../policies/read-only.json';
import sessionTemplate from '../../policies/session.json';
import terminateOwnTemplate from '../../policies/terminate-own.json';
import type { PolicyDocument, PolicyStatement } from './policy-document';
import { type Partition, partitionOfRegion } from './principal';
import { err, ok, type Result } from './result';
import { DOCUMENT_KINDS, SESSION_DOCUMENTS, type Target } from './target';

export const POLICY_PATH = '/keyturn/';
/** IAM customer-managed policy size quota; IAM does not count whitespace. */
export const MAX_POLICY_CHARS = 6144;

export function policyName(grantId: string): string {
  return `keyturn-${grantId}`;
}

export interface GrantPolicyInput {
  accountId: string;
  region: string;
  /** Derived from the region when absent. */
  partition?: Partition;
  target: Pick<Target, 'tags' | 'documents'>;
  /** Whole-second UTC (`YYYY-MM-DDTHH:MM:SSZ`), fixed at approval. */
  startsAt: string;
  expiresAt: string;
}

export type PolicyError =
  | { reason: 'too-large'; chars: number; limit: number }
  | { reason: 'invalid'; problems: string[] };

/** Template placeholders are colon-free, so IAM's own variables (`${aws:username}`) never match. */
const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{([A-Za-z][A-Za-z0-9]*)\}$/;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Returns a new tree with placeholders replaced; the input (an imported template) is never touched.
 * A string that is exactly one placeholder takes the value whole (object, array or string); a placeholder
 * inside a longer string must have a string value. Substituted values are not scanned again, so a value's
 * own `${…}` text is never expanded. Unknown placeholders are left for validation to report.
 */
export function substitute(node: unknown, values: Readonly<Record<string, Json>>): Json {
  if (typeof node === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(node);
    if (whole) {
      const value = values[whole[1]!];
      return value === undefined ? node : structuredClone(value);
    }
    return node.replace(PLACEHOLDER, (match, name: string) => {
      const value = values[name];
      return typeof value === 'string' ? value : match;
    });
  }
  if (Array.isArray(node)) return node.map((item) => substitute(item, values));
  if (node !== null && typeof node === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(node)) out[key] = substitute(value, values);
    return out;
  }
  return node as Json;
}

export function renderGrantPolicy(input: GrantPolicyInput): Result<PolicyDocument, PolicyError> {
  const partition = input.partition ?? partitionOfRegion(input.region);
  const resourceTags: { [key: string]: Json } = {};
  for (const key of Object.keys(input.target.tags).sort()) {
    resourceTags[`ssm:resourceTag/${key}`] = input.target.tags[key]!;
  }
  // Document names come only from SESSION_DOCUMENTS, in a fixed order, so a retried apply renders the same text.
  const documentArns = DOCUMENT_KINDS.filter((kind) => input.target.documents.includes(kind)).map(
    (kind) => `arn:${partition}:ssm:${input.region}:*:document/${SESSION_DOCUMENTS[kind]}`,
  );
  const values: Record<string, Json> = {
    partition,
    region: input.region,
    accountId: input.accountId,
    startsAt: input.startsAt,
    expiresAt: input.expiresAt,
    resourceTags,
    documentArns,
  };

  const templates: unknown[] = [sessionTemplate, terminateOwnTemplate, readOnlyTemplate];
  const statements = templates.flatMap((template) => substitute(template, values) as Json[]);
  // The cast is checked right below: validateGrantPolicy inspects every field it relies on.
  const doc = { Version: '2012-10-17', Statement: statements } as unknown as PolicyDocument;

  const problems = validateGrantPolicy(doc);
  if (problems.length > 0) return err({ reason: 'invalid', problems });
  const chars = policyChars(doc);
  if (chars > MAX_POLICY_CHARS) return err({ reason: 'too-large', chars, limit: MAX_POLICY_CHARS });
  return ok(doc);
}

/**
 * IAM counts characters without whitespace; compact JSON has none outside strings. Spaces inside tag values
 * are counted too, which over-estimates slightly and so errs on the side of rejecting before CreatePolicy.
 * Counted in code points, not UTF-16 units.
 */
export function policyChars(doc: PolicyDocument): number {
  return [...JSON.stringify(doc)].length;
}

// ---------------------------------------------------------------------------------------------------------
// Validation. Written against the rendered document, not the input, so it also catches a broken template.

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const ACCOUNT_ID = /^\d{12}$/;
// us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5 …
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// IAM accepts only alphanumerics in a Sid of an identity policy.
const SID = /^[A-Za-z0-9]+$/;
const TAG_CONDITION_PREFIX = 'ssm:resourceTag/';
const PARTITION = 'aws(?:-cn|-us-gov)?';
const NODE_RESOURCE = new RegExp(
  `^arn:${PARTITION}:(ec2|ssm):([^:]*):([^:]*):(instance|managed-instance)/(.*)$`,
);
const DOCUMENT_RESOURCE = new RegExp(`^arn:${PARTITION}:ssm:([^:]*):([^:]*):document/(.*)$`);
const SESSION_RESOURCE = new RegExp(`^arn:${PARTITION}:ssm:\\*:\\*:session/\\*$`);
/**
 * AWS's documented own-session condition, for every principal kind: Session Manager tags each session
 * with the starter's `aws:userid` (FACTS.md, Session Manager; "end only sessions they started").
 */
const OWN_SESSION_TAG = 'ssm:resourceTag/aws:ssmmessages:session-id';
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM per request.
const CALLER_USER_ID = '${aws:userid}';
const PERMITTED_DOCUMENT_NAMES: readonly string[] = Object.values(SESSION_DOCUMENTS);

/** Wildcard-only discovery actions: the only ones allowed on `Resource: "*"`. */
const READ_ONLY_ACTIONS: readonly string[] = [
  'ssm:DescribeSessions',
  'ssm:GetConnectionStatus',
  'ssm:DescribeInstanceProperties',
  'ssm:DescribeInstanceInformation',
  'ec2:DescribeInstances',
];
const SESSION_ACTIONS: readonly string[] = [
  'ssm:TerminateSession',
  'ssm:ResumeSession',
  'ssmmessages:OpenDataChannel',
];
const GRANTABLE_ACTIONS: readonly string[] = ['ssm:StartSession', ...SESSION_ACTIONS, ...READ_ONLY_ACTIONS];

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function collectStrings(node: unknown, out: string[]): void {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const item of node) collectStrings(item, out);
  else if (isRecord(node))
    for (const [key, value] of Object.entries(node)) {
      out.push(key);
      collectStrings(value, out);
    }
}

/**
 * Config validation already rejects these in tag keys and values; checked again because a tag is the whole
 * boundary of what a grant reaches. `*`/`?` are wildcards to StringLike and in ARNs; quotes and control
 * characters break out of the JSON value; `${` starts an IAM policy variable, which IAM expands even inside
 * a StringEquals value.
 */
function tagTextProblem(text: string): string | undefined {
  if (/[*?]/.test(text)) return 'a wildcard (* or ?)';
  if (/["'`]/.test(text)) return 'a quote';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'a control character';
  if (text.includes('${')) return 'an IAM policy variable (${)';
  return undefined;
}

function checkIsoTime(label: string, value: unknown, problems: string[]): number | undefined {
  if (typeof value !== 'string' || !ISO_SECONDS.test(value)) {
    problems.push(`${label}: ${JSON.stringify(value)} is not a timestamp of the form YYYY-MM-DDTHH:MM:SSZ`);
    return undefined;
  }
  const ms = Date.parse(value);
  // Round-tripping rejects dates Date.parse would roll over, like 2026-02-30.
  if (Number.isNaN(ms) || `${new Date(ms).toISOString().slice(0, 19)}Z` !== value) {
    problems.push(`${label}: ${value} is not a real date and time`);
    return undefined;
  }
  return ms;
}

function checkRegionAndAccount(label: string, region: string, account: string, problems: string[]): void {
  if (!REGION.test(region)) problems.push(`${label}: region ${JSON.stringify(region)} is not a region name`);
  if (!ACCOUNT_ID.test(account))
    problems.push(`${label}: account id ${JSON.stringify(account)} is not 12 digits`);
}

export function validateGrantPolicy(doc: PolicyDocument): string[] {
  const problems: string[] = [];
  if (!isRecord(doc)) return ['the policy is not an object'];
  if (doc.Version !== '2012-10-17')
    problems.push(`Version must be 2012-10-17, got ${JSON.stringify(doc.Version)}`);

  const strings: string[] = [];
  collectStrings(doc, strings);
  const unresolved = new Set(strings.flatMap((s) => [...s.matchAll(PLACEHOLDER)].map((m) => m[0])));
  for (const placeholder of unresolved) problems.push(`unresolved placeholder ${placeholder}`);

  const statements = asList(doc.Statement);
  if (statements.length === 0) problems.push('the policy has no statements');

  const sids = new Set<string>();
  const windows = new Set<string>();
  let nodeStatements = 0;
  let documentArns = 0;

  statements.forEach((raw, index) => {
    if (!isRecord(raw)) {
      problems.push(`statement ${index}: not an object`);
      return;
    }
    const s = raw as Partial<PolicyStatement> & Record<string, unknown>;
    const label = `statement ${typeof s.Sid === 'string' ? s.Sid : index}`;

    if (typeof s.Sid !== 'string' || !SID.test(s.Sid)) problems.push(`${label}: Sid must be alphanumeric`);
    else if (sids.has(s.Sid)) problems.push(`${label}: duplicate Sid`);
    else sids.add(s.Sid);

    // Keyturn only ever grants; a Deny here would be a template mistake, and NotAction/NotResource invert meaning.
    if (s.Effect !== 'Allow')
      problems.push(`${label}: Effect must be Allow, got ${JSON.stringify(s.Effect)}`);
    for (const key of ['NotAction', 'NotResource', 'Principal', 'NotPrincipal']) {
      if (key in s) problems.push(`${label}: ${key} is not allowed`);
    }

    const actions = asList(s.Action);
    const resources = asList(s.Resource);
    if (actions.length === 0) problems.push(`${label}: Action is empty`);
    if (resources.length === 0) problems.push(`${label}: Resource is empty`);
    for (const action of actions) {
      if (typeof action !== 'string' || action === '')
        problems.push(`${label}: an Action is not a non-empty string`);
      else if (action.includes('*') || action.includes('?'))
        problems.push(`${label}: Action ${action} has a wildcard`);
      else if (!GRANTABLE_ACTIONS.includes(action))
        problems.push(`${label}: Action ${action} is not one Keyturn grants`);
    }
    for (const resource of resources) {
      if (typeof resource !== 'string' || resource === '')
        problems.push(`${label}: a Resource is not a non-empty string`);
    }
    const actionNames = actions.filter((a): a is string => typeof a === 'string');
    const resourceNames = resources.filter((r): r is string => typeof r === 'string');

    // A Resource of "*" is only safe for the wildcard-only discovery actions.
    if (resourceNames.includes('*')) {
      const unsafe = actionNames.filter((a) => !READ_ONLY_ACTIONS.includes(a));
      if (unsafe.length > 0)
        problems.push(
          `${label}: Resource "*" is only allowed for read-only actions, not ${unsafe.join(', ')}`,
        );
    }

    const condition = isRecord(s.Condition) ? s.Condition : {};
    if (s.Condition !== undefined && !isRecord(s.Condition))
      problems.push(`${label}: Condition is not an object`);

    // The expiry lives in the policy so access ends even if Keyturn is down: every statement needs both bounds.
    const after = isRecord(condition.DateGreaterThanEquals)
      ? condition.DateGreaterThanEquals['aws:CurrentTime']
      : undefined;
    const before = isRecord(condition.DateLessThan) ? condition.DateLessThan['aws:CurrentTime'] : undefined;
    if (after === undefined)
      problems.push(`${label}: missing DateGreaterThanEquals aws:CurrentTime (start of the window)`);
    if (before === undefined)
      problems.push(`${label}: missing DateLessThan aws:CurrentTime (end of the window)`);
    const startMs = after === undefined ? undefined : checkIsoTime(`${label}: start`, after, problems);
    const endMs = before === undefined ? undefined : checkIsoTime(`${label}: expiry`, before, problems);
    if (startMs !== undefined && endMs !== undefined) {
      if (startMs >= endMs)
        problems.push(`${label}: start ${String(after)} is not before expiry ${String(before)}`);
      windows.add(`${String(after)}/${String(before)}`);
    }

    const startsSessions = actionNames.includes('ssm:StartSession');
    // AWS: the document access check "must be included in all policy statements which allow the
    // ssm:StartSession action", or omitting --document-name falls back to a shell nobody granted.
    if (startsSessions) {
      const check = isRecord(condition.BoolIfExists)
        ? condition.BoolIfExists['ssm:SessionDocumentAccessCheck']
        : undefined;
      if (check !== 'true')
        problems.push(`${label}: StartSession without BoolIfExists ssm:SessionDocumentAccessCheck "true"`);
    }

    const nodeResources = resourceNames.filter(
      (r) => r.startsWith('arn:') && /:(instance|managed-instance)\//.test(r),
    );
    if (nodeResources.length > 0) {
      nodeStatements++;
      for (const resource of nodeResources) {
        const m = NODE_RESOURCE.exec(resource);
        if (!m) {
          problems.push(`${label}: node resource ${resource} is malformed`);
          continue;
        }
        checkRegionAndAccount(label, m[2]!, m[3]!, problems);
        const expectedService = m[4] === 'instance' ? 'ec2' : 'ssm';
        if (m[1] !== expectedService)
          problems.push(`${label}: ${m[4]} belongs to ${expectedService}, not ${m[1]}`);
      }
      // Tags are the only thing narrowing `instance/*` to the target's nodes.
      const equals = isRecord(condition.StringEquals) ? condition.StringEquals : {};
      const tagKeys = Object.keys(equals).filter((k) => k.startsWith(TAG_CONDITION_PREFIX));
      if (tagKeys.length === 0)
        problems.push(`${label}: node statement has no StringEquals ssm:resourceTag condition`);
      for (const key of tagKeys) {
        const tagKey = key.slice(TAG_CONDITION_PREFIX.length);
        const value = equals[key];
        if (tagKey === '') problems.push(`${label}: empty tag key`);
        const keyProblem = tagTextProblem(tagKey);
        if (keyProblem) problems.push(`${label}: tag key ${JSON.stringify(tagKey)} contains ${keyProblem}`);
        if (typeof value !== 'string') {
          problems.push(`${label}: tag ${JSON.stringify(tagKey)} must have exactly one string value`);
          continue;
        }
        const valueProblem = tagTextProblem(value);
        if (valueProblem)
          problems.push(`${label}: tag ${JSON.stringify(tagKey)} value contains ${valueProblem}`);
      }
    } else if (startsSessions && resourceNames.some((r) => !DOCUMENT_RESOURCE.test(r))) {
      problems.push(`${label}: StartSession on something that is neither a node nor a session document`);
    }

    for (const resource of resourceNames) {
      const m = DOCUMENT_RESOURCE.exec(resource);
      if (!m) continue;
      documentArns++;
      if (!REGION.test(m[1]!))
        problems.push(`${label}: region ${JSON.stringify(m[1])} in ${resource} is not a region name`);
      if (!PERMITTED_DOCUMENT_NAMES.includes(m[3]!))
        problems.push(`${label}: ${m[3]} is not a session document Keyturn grants`);
    }

    // Terminate/Resume must stay scoped to the caller's own sessions by the session-id tag, or one person
    // could end or take over another's session. OpenDataChannel needs the session's token besides.
    const sessionActions = actionNames.filter((a) => SESSION_ACTIONS.includes(a));
    if (sessionActions.length > 0) {
      for (const resource of resourceNames) {
        if (!SESSION_RESOURCE.test(resource))
          problems.push(`${label}: ${resource} is not the session/* resource of own-session actions`);
      }
      const equals = isRecord(condition.StringEquals) ? condition.StringEquals : {};
      const scoped = equals[OWN_SESSION_TAG] === CALLER_USER_ID;
      if (sessionActions.some((a) => a !== 'ssmmessages:OpenDataChannel') && !scoped)
        problems.push(
          `${label}: not scoped to the caller's own sessions (StringEquals ${OWN_SESSION_TAG}: ${CALLER_USER_ID})`,
        );
    }
  });

  if (nodeStatements === 0) problems.push('no statement grants StartSession on tagged nodes');
  if (documentArns === 0) problems.push('no session document is permitted');
  if (windows.size > 1) problems.push(`statements disagree on the time window: ${[...windows].join(', ')}`);
  return problems;
}
