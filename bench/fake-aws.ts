import { type IAMClientConfig, IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type HttpRequest, HttpResponse } from '@smithy/core/transport';
import { awsClientConfig } from '../src/main/aws-clients';
import type { CallLog } from './instrument';

/*
 * In-memory IAM (query protocol, XML) and Systems Manager (JSON protocol) behind the real AWS SDK
 * clients, as their request handler: Keyturn's own adapters and the SDK's retries, backoff and
 * adaptive rate limiting all run as in production, and every attempt (throttled ones too) is one
 * call to count. Each attempt costs `latencyMs` on the given `sleep` (the virtual clock).
 */

type Handler = NonNullable<IAMClientConfig['requestHandler']>;

export interface BackendOptions {
  log: CallLog;
  latencyMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Share of attempts answered with the service's throttling error, decided by `random`. */
  throttleRate?: number;
  random?: () => number;
}

/** A seeded PRNG (mulberry32), so throttling falls on the same calls in every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The request body as text: the SDK hands the JSON protocol's over as bytes. */
function bodyText(request: HttpRequest): string {
  const body: unknown = request.body;
  if (typeof body === 'string') return body;
  // Through the ArrayBuffer: Buffer.from on the SDK's byte adapter would call its warning valueOf().
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return '';
}

abstract class Backend {
  /** Attempts answered with a throttling error. */
  throttled = 0;
  constructor(protected readonly opts: BackendOptions) {}

  protected abstract readonly service: 'IAM' | 'SSM';
  protected abstract operation(request: HttpRequest): string;
  protected abstract answer(operation: string, request: HttpRequest): { status: number; body: string };
  protected abstract throttle(): { status: number; body: string };
  protected abstract readonly contentType: string;

  readonly handler: Handler = {
    handle: async (request: HttpRequest) => {
      const operation = this.operation(request);
      this.opts.log.record(this.service, operation);
      if (this.opts.latencyMs > 0) await this.opts.sleep(this.opts.latencyMs);
      const rate = this.opts.throttleRate ?? 0;
      let answer: { status: number; body: string };
      if (rate > 0 && (this.opts.random ?? Math.random)() < rate) {
        this.throttled++;
        answer = this.throttle();
      } else {
        answer = this.answer(operation, request);
      }
      const response = new HttpResponse({
        statusCode: answer.status,
        headers: { 'content-type': this.contentType, 'x-amzn-requestid': 'bench' },
        body: Buffer.from(answer.body, 'utf8'),
      });
      return { response };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  } as unknown as Handler;
}

// ---- IAM --------------------------------------------------------------------------------------

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

interface IamPolicy {
  arn: string;
  name: string;
  path: string;
  versions: { id: string; isDefault: boolean; created: string }[];
  nextVersion: number;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function ok(action: string, result = ''): { status: number; body: string } {
  return {
    status: 200,
    body: `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></${action}Response>`,
  };
}

function iamError(status: number, code: string, message: string): { status: number; body: string } {
  return {
    status,
    body: `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>bench</RequestId></ErrorResponse>`,
  };
}

/**
 * IAM's managed policies and attachments, for the calls Keyturn makes when applying and revoking
 * grants. A policy's effect is visible to SimulatePrincipalPolicy `propagationMs` after the attach
 * (IAM is eventually consistent, FACTS.md). Counts what a double revoke would show twice.
 */
export class FakeIam extends Backend {
  protected readonly service = 'IAM' as const;
  protected readonly contentType = 'text/xml';
  readonly policies = new Map<string, IamPolicy>();
  /** `user/<name>` or `role/<name>` → policy ARN → when it was attached (ms). */
  readonly attachments = new Map<string, Map<string, number>>();
  /** Successful detaches and deletes per policy ARN. */
  readonly detaches = new Map<string, number>();
  readonly deletes = new Map<string, number>();

  private readonly extra: { accountId: string; now: () => number; propagationMs?: number; quota?: number };

  constructor(
    opts: BackendOptions & {
      accountId: string;
      now: () => number;
      propagationMs?: number;
      quota?: number;
    },
  ) {
    super(opts);
    this.extra = opts;
  }

  /** A policy already created and attached (grants that are active when a measurement starts). */
  seedAttached(principalKey: string, path: string, name: string): string {
    const arn = `arn:aws:iam::${this.extra.accountId}:policy${path}${name}`;
    this.policies.set(arn, {
      arn,
      name,
      path,
      versions: [{ id: 'v1', isDefault: true, created: new Date(this.extra.now()).toISOString() }],
      nextVersion: 2,
    });
    const attached = this.attachments.get(principalKey) ?? new Map<string, number>();
    attached.set(arn, this.extra.now() - (this.extra.propagationMs ?? 0));
    this.attachments.set(principalKey, attached);
    return arn;
  }

  protected operation(request: HttpRequest): string {
    return new URLSearchParams(bodyText(request)).get('Action') ?? 'unknown';
  }

  protected throttle() {
    return iamError(400, 'Throttling', 'Rate exceeded');
  }

  protected answer(action: string, request: HttpRequest): { status: number; body: string } {
    const p = new URLSearchParams(bodyText(request));
    const principal = p.get('UserName') ? `user/${p.get('UserName')}` : `role/${p.get('RoleName')}`;
    const arn = p.get('PolicyArn') ?? '';
    const policy = this.policies.get(arn);
    const noSuchPolicy = () =>
      iamError(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
    switch (action) {
      case 'CreatePolicy': {
        const name = p.get('PolicyName') ?? '';
        const path = p.get('Path') ?? '/';
        const created = `arn:aws:iam::${this.extra.accountId}:policy${path}${name}`;
        if (this.policies.has(created))
          return iamError(409, 'EntityAlreadyExists', `A policy called ${name} already exists.`);
        this.policies.set(created, {
          arn: created,
          name,
          path,
          versions: [{ id: 'v1', isDefault: true, created: new Date(this.extra.now()).toISOString() }],
          nextVersion: 2,
        });
        return ok(
          action,
          `<Policy><PolicyName>${xmlEscape(name)}</PolicyName><Arn>${created}</Arn><Path>${path}</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>0</AttachmentCount><IsAttachable>true</IsAttachable></Policy>`,
        );
      }
      case 'AttachUserPolicy':
      case 'AttachRolePolicy': {
        if (!policy) return noSuchPolicy();
        const attached = this.attachments.get(principal) ?? new Map<string, number>();
        if (!attached.has(arn)) attached.set(arn, this.extra.now());
        this.attachments.set(principal, attached);
        return ok(action);
      }
      case 'DetachUserPolicy':
      case 'DetachRolePolicy': {
        if (!this.attachments.get(principal)?.delete(arn))
          return iamError(404, 'NoSuchEntity', `Policy ${arn} was not found.`);
        this.detaches.set(arn, (this.detaches.get(arn) ?? 0) + 1);
        return ok(action);
      }
      case 'ListPolicyVersions': {
        if (!policy) return noSuchPolicy();
        const members = policy.versions
          .map(
            (v) =>
              `<member><VersionId>${v.id}</VersionId><IsDefaultVersion>${v.isDefault}</IsDefaultVersion><CreateDate>${v.created}</CreateDate></member>`,
          )
          .join('');
        return ok(action, `<Versions>${members}</Versions><IsTruncated>false</IsTruncated>`);
      }
      case 'DeletePolicyVersion': {
        if (!policy) return noSuchPolicy();
        policy.versions = policy.versions.filter((v) => v.id !== p.get('VersionId') || v.isDefault);
        return ok(action);
      }
      case 'DeletePolicy': {
        if (!policy) return noSuchPolicy();
        if ([...this.attachments.values()].some((a) => a.has(arn)))
          return iamError(409, 'DeleteConflict', 'Cannot delete a policy attached to entities.');
        this.policies.delete(arn);
        this.deletes.set(arn, (this.deletes.get(arn) ?? 0) + 1);
        return ok(action);
      }
      case 'ListAttachedUserPolicies':
      case 'ListAttachedRolePolicies': {
        const members = [...(this.attachments.get(principal)?.keys() ?? [])]
          .map(
            (a) =>
              `<member><PolicyName>${a.split('/').pop()}</PolicyName><PolicyArn>${a}</PolicyArn></member>`,
          )
          .join('');
        return ok(action, `<AttachedPolicies>${members}</AttachedPolicies><IsTruncated>false</IsTruncated>`);
      }
      case 'GetAccountSummary': {
        const quota = this.extra.quota ?? 10;
        return ok(
          action,
          `<SummaryMap><entry><key>AttachedPoliciesPerUserQuota</key><value>${quota}</value></entry><entry><key>AttachedPoliciesPerRoleQuota</key><value>${quota}</value></entry></SummaryMap>`,
        );
      }
      case 'SimulatePrincipalPolicy': {
        const source = p.get('PolicySourceArn') ?? '';
        // Attachments are keyed by name; an ARN carries the path (/keyturn/people/ for access roles).
        const name = source.split('/').at(-1);
        const key = source.includes(':user/') ? `user/${name}` : `role/${name}`;
        const visible = [...(this.attachments.get(key)?.values() ?? [])].some(
          (at) => this.extra.now() - at >= (this.extra.propagationMs ?? 0),
        );
        const decision = visible ? 'allowed' : 'implicitDeny';
        return ok(
          action,
          `<EvaluationResults><member><EvalActionName>ssm:StartSession</EvalActionName><EvalResourceName>${xmlEscape(p.get('ResourceArns.member.1') ?? '*')}</EvalResourceName><EvalDecision>${decision}</EvalDecision></member></EvaluationResults><IsTruncated>false</IsTruncated>`,
        );
      }
      case 'TagUser':
      case 'TagRole':
      case 'UntagUser':
      case 'UntagRole':
        return ok(action);
      default:
        return iamError(400, 'InvalidAction', `the benchmark's IAM does not implement ${action}`);
    }
  }
}

// ---- Systems Manager ----------------------------------------------------------------------------

export interface FakeNode {
  id: string;
  name: string;
  tags: Record<string, string>;
  ping: 'Online' | 'ConnectionLost' | 'Inactive';
}

export interface FakeSession {
  id: string;
  owner: string;
  target: string;
  startedAt: number;
  endedAt?: number;
}

/** What the Run Command part of the fake answers with; set by the Run Command measurement. */
export interface RunCommandModel {
  answer(operation: string, input: Record<string, unknown>): unknown;
}

/**
 * Systems Manager's node inventory and Session Manager sessions (DescribeInstanceInformation,
 * DescribeSessions with paging, TerminateSession), and Run Command when a model is plugged in.
 */
export class FakeSsm extends Backend {
  protected readonly service = 'SSM' as const;
  protected readonly contentType = 'application/x-amz-json-1.1';
  readonly sessions = new Map<string, FakeSession>();
  /** TerminateSession calls that ended an open session, per session id. */
  readonly terminations = new Map<string, number>();
  runCommand: RunCommandModel | undefined;

  private readonly nodes: readonly FakeNode[];
  private readonly now: () => number;

  constructor(opts: BackendOptions & { nodes: readonly FakeNode[]; now: () => number }) {
    super(opts);
    this.nodes = opts.nodes;
    this.now = opts.now;
  }

  protected operation(request: HttpRequest): string {
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
    return target.split('.')[1] ?? 'unknown';
  }

  protected throttle() {
    return { status: 400, body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }) };
  }

  protected answer(operation: string, request: HttpRequest): { status: number; body: string } {
    const input = JSON.parse(bodyText(request) || '{}') as Record<string, unknown>;
    const json = (value: unknown) => ({ status: 200, body: JSON.stringify(value) });
    switch (operation) {
      case 'DescribeInstanceInformation': {
        const filters = (input.Filters ?? []) as { Key: string; Values: string[] }[];
        const matching = this.nodes.filter((n) =>
          filters.every((f) => !f.Key.startsWith('tag:') || f.Values.includes(n.tags[f.Key.slice(4)] ?? '')),
        );
        const page = paginate(matching, input, 50);
        return json({
          InstanceInformationList: page.items.map((n) => ({
            InstanceId: n.id,
            Name: n.name,
            PingStatus: n.ping,
          })),
          ...(page.next ? { NextToken: page.next } : {}),
        });
      }
      case 'DescribeSessions': {
        const active = input.State === 'Active';
        const filters = (input.Filters ?? []) as { key: string; value: string }[];
        const after = filters.find((f) => f.key === 'InvokedAfter');
        const owner = filters.find((f) => f.key === 'Owner');
        const listed = [...this.sessions.values()].filter(
          (s) =>
            (active ? s.endedAt === undefined : s.endedAt !== undefined) &&
            (!after || s.startedAt >= Date.parse(after.value)) &&
            (!owner || s.owner === owner.value),
        );
        const page = paginate(listed, input, 200);
        return json({
          Sessions: page.items.map((s) => ({
            SessionId: s.id,
            Target: s.target,
            Owner: s.owner,
            Status: active ? 'Connected' : 'Terminated',
            DocumentName: 'SSM-SessionManagerRunShell',
            StartDate: s.startedAt / 1000,
            ...(s.endedAt !== undefined ? { EndDate: s.endedAt / 1000 } : {}),
          })),
          ...(page.next ? { NextToken: page.next } : {}),
        });
      }
      case 'TerminateSession': {
        const session = this.sessions.get(String(input.SessionId));
        if (session && session.endedAt === undefined) {
          session.endedAt = this.now();
          this.terminations.set(session.id, (this.terminations.get(session.id) ?? 0) + 1);
        }
        return json({ SessionId: input.SessionId });
      }
      default: {
        const answer = this.runCommand?.answer(operation, input);
        if (answer !== undefined) return json(answer);
        return {
          status: 400,
          body: JSON.stringify({
            __type: 'InvalidAction',
            message: `the benchmark's SSM does not implement ${operation}`,
          }),
        };
      }
    }
  }
}

/** NextToken is the offset of the next page, as a string. */
export function paginate<T>(items: readonly T[], input: Record<string, unknown>, max: number) {
  const start = Number(input.NextToken ?? 0);
  const size = Math.min(Number(input.MaxResults ?? max), max);
  const end = start + size;
  return { items: items.slice(start, end), next: end < items.length ? String(end) : undefined };
}

/** The production client settings (aws-clients.ts: 8 attempts, standard retries) on a fake backend. */
export function iamClientOn(
  backend: FakeIam,
  overrides: { retryMode?: 'adaptive' | 'standard' } = {},
): IAMClient {
  return new IAMClient({
    ...awsClientConfig({ region: 'ap-northeast-1' }),
    ...(overrides.retryMode ? { retryMode: overrides.retryMode } : {}),
    endpoint: 'https://iam.bench.invalid',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    requestHandler: backend.handler,
  });
}

export function ssmClientOn(backend: FakeSsm, overrides: { maxAttempts?: number } = {}): SSMClient {
  return new SSMClient({
    ...awsClientConfig({ region: 'ap-northeast-1' }),
    ...overrides,
    endpoint: 'https://ssm.bench.invalid',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    requestHandler: backend.handler as never,
  });
}
