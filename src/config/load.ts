import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { renderBoundary } from '../domain/boundary';
import type { Identity, Person } from '../domain/person';
import { partitionOfRegion } from '../domain/principal';
import { err, ok, type Result } from '../domain/result';
import type { Target } from '../domain/target';
import { configSchema, KNOWN_KEYS_MARK, type ParsedConfig } from './schema';
import type { Config, Snippet, SnippetParam } from './types';

/** One thing wrong with the file: where (dotted key path, '' for the file itself), what was there, which rule. */
export interface ConfigProblem {
  path: string;
  value?: unknown;
  message: string;
}

export interface ConfigError {
  source: string;
  problems: ConfigProblem[];
}

/** Thrown at start-up: a process must not run on a config it could not read or validate. */
export class ConfigLoadError extends Error {
  override readonly name = 'ConfigLoadError';
  readonly code: 'CONFIG_INVALID' | 'CONFIG_NOT_FOUND';
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(
    error: ConfigError,
    code: ConfigLoadError['code'] = 'CONFIG_INVALID',
    options?: { cause?: unknown },
  ) {
    super(formatConfigError(error), options);
    this.code = code;
    this.source = error.source;
    this.problems = error.problems;
  }
}

/** Shipped next to package.json; works from src/config (tsx, ts-jest) and from a compiled dist/config alike. */
export const EXAMPLE_CONFIG_PATH = path.resolve(__dirname, '../../keyturn.example.yml');

const MAX_SHOWN_CHARS = 60;
// A value under a key named like this is never printed, even when it is the thing that is wrong.
const SECRET_KEY = /token|secret|passw(or)?d|passphrase|credential|private[-_]?key/i;

export function formatConfigError(e: ConfigError): string {
  return e.problems.map((p) => `${e.source}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('\n');
}

/** Parses and validates keyturn.yml text. Every problem is reported at once, not just the first. */
export function parseConfig(text: string, source: string): Result<Config, ConfigError> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return err({
      source,
      problems: doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at ? ` at line ${at.line}, column ${at.col}` : '';
        // prettyErrors appends " at line L, column C:" and a source excerpt; keep the first sentence only.
        const what = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: '', message: `YAML syntax error${where}: ${what}` };
      }),
    });
  }

  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (e) {
    // toJS refuses alias "billion laughs" expansions (ReferenceError: excessive alias count).
    return err({
      source,
      problems: [{ path: '', message: `cannot be read as YAML: ${(e as Error).message}` }],
    });
  }

  const protoKeys = findProtoKeys(raw, []);
  const parsed = configSchema.safeParse(raw, { error: () => DEFAULT_MESSAGE });
  if (!parsed.success || protoKeys.length > 0) {
    return err({
      source,
      problems: [...protoKeys, ...(parsed.success ? [] : toProblems(parsed.error.issues, raw))],
    });
  }
  const config = toConfig(parsed.data);
  // Every access role carries one boundary listing each distinct tag set: it must fit a managed policy.
  const boundary = renderBoundary(config.aws, Object.values(config.targets));
  if (!boundary.ok) {
    return err({
      source,
      problems: [
        {
          path: 'targets',
          message: `need an access-role permissions boundary of ${boundary.error.chars} characters, over IAM's ${boundary.error.limit} for a managed policy; use fewer distinct tag sets (targets with the same tags share a statement)`,
        },
      ],
    });
  }
  return ok(deepFreeze(config));
}

/**
 * zod drops a `__proto__` key from maps without a word (it cannot be a plain key of a JS object). Under
 * `tags` that would silently widen a grant, so it is refused wherever it appears.
 */
function findProtoKeys(node: unknown, at: Segment[]): ConfigProblem[] {
  if (node === null || typeof node !== 'object') return [];
  const problems: ConfigProblem[] = [];
  for (const [key, child] of Object.entries(node)) {
    const here = [...at, Array.isArray(node) ? Number(key) : key];
    if (key === '__proto__') problems.push(problem(here, undefined, 'is a key keyturn.yml cannot use'));
    else problems.push(...findProtoKeys(child, here));
  }
  return problems;
}

/**
 * Reads `KEYTURN_CONFIG` (relative to `cwd`) or `<cwd>/keyturn.yml`; with neither, the shipped example so
 * `npm start` works out of the box in sandbox mode. Throws ConfigLoadError: nothing can run without config.
 */
export function loadConfig(opts: {
  env: Record<string, string | undefined>;
  cwd: string;
  log: (msg: string) => void;
}): Config {
  const configured = opts.env.KEYTURN_CONFIG;
  let file: string;
  if (configured !== undefined && configured !== '') {
    file = path.resolve(opts.cwd, configured);
  } else {
    const local = path.join(opts.cwd, 'keyturn.yml');
    if (isFile(local)) file = local;
    else {
      file = EXAMPLE_CONFIG_PATH;
      opts.log(
        `No keyturn.yml in ${opts.cwd} and KEYTURN_CONFIG is not set; using the shipped example ${file} (sandbox settings)`,
      );
    }
  }

  const source = displayName(file, opts.cwd);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    const why = configured ? ` (KEYTURN_CONFIG=${configured})` : '';
    throw new ConfigLoadError(
      {
        source: file,
        problems: [
          {
            path: '',
            message: missing ? `file not found${why}` : `cannot be read${why}: ${(e as Error).message}`,
          },
        ],
      },
      'CONFIG_NOT_FOUND',
      { cause: e },
    );
  }

  const result = parseConfig(text, source);
  if (!result.ok) throw new ConfigLoadError(result.error);
  return result.value;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `keyturn.yml` reads better than `/srv/app/keyturn.yml` in an error, when the file is under cwd. */
function displayName(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

// ---------------------------------------------------------------------------------------------------------
// Validated input → Config

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

function toConfig(c: ParsedConfig): Config {
  return {
    aws: {
      accountId: c.aws.accountId,
      region: c.aws.region,
      partition: c.aws.partition ?? partitionOfRegion(c.aws.region),
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
      fleet: c.sandbox.fleet.map((n) => ({ id: n.id, name: n.name, tags: { ...n.tags }, ping: n.ping })),
      userGroups: mapValues(c.sandbox.userGroups, (members) => [...members]),
    },
  };
}

function mapValues<A, B>(record: Record<string, A>, f: (value: A, key: string) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value, key)]));
}

/** Config is shared by every request handler for the life of the process; nothing may change it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// zod issues → problems that name the key, the value and the rule

// Marks issues the schema has no wording for; they get a generic rule built from the issue itself.
const DEFAULT_MESSAGE = '\u0000default';

type Segment = PropertyKey;

function toProblems(issues: readonly z.core.$ZodIssue[], raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const at = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const known = issue.message.startsWith(KNOWN_KEYS_MARK)
        ? issue.message.slice(KNOWN_KEYS_MARK.length).split(',')
        : [];
      for (const key of issue.keys)
        problems.push(problem([...at, key], valueAt(raw, [...at, key]), unknownKey(key, known), false));
    } else if (issue.code === 'invalid_key') {
      // A map key (target name, Slack id, tag key) is wrong: the key itself is the offending value.
      const key = at[at.length - 1];
      for (const inner of issue.issues) problems.push(problem(at, String(key), rule(inner), true, false));
    } else {
      const value = valueAt(raw, at);
      if (value === undefined && issue.code === 'invalid_type')
        problems.push(problem(at, undefined, 'is required'));
      else if (at.length === 0 && (value === undefined || value === null))
        problems.push(
          problem(at, value, 'the file is empty; it needs at least aws, slack, people and targets', false),
        );
      else {
        const show =
          issue.code !== 'custom' ||
          (issue.params as { showValue?: boolean } | undefined)?.showValue !== false;
        problems.push(problem(at, value, rule(issue), show));
      }
    }
  }
  return problems;
}

function problem(
  at: readonly Segment[],
  value: unknown,
  ruleText: string,
  showValue = true,
  mayRedact = true,
): ConfigProblem {
  const secret = mayRedact && at.some((s) => typeof s === 'string' && SECRET_KEY.test(s));
  const shown = secret ? '[redacted]' : value;
  return {
    path: formatPath(at),
    ...(value !== undefined && { value: shown }),
    message: showValue && value !== undefined ? `${show(shown, secret)} ${ruleText}` : ruleText,
  };
}

function rule(issue: z.core.$ZodIssue): string {
  if (issue.message !== DEFAULT_MESSAGE) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `is not ${article(issue.expected)}`;
    case 'invalid_value':
      return `is not one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'too_small':
      return `is smaller than ${String(issue.minimum)}`;
    case 'too_big':
      return `is bigger than ${String(issue.maximum)}`;
    default:
      return 'is not valid here';
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'string':
      return 'text';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${expected}`;
  }
}

function unknownKey(key: string, known: readonly string[]): string {
  const near = known.length > 0 ? closest(key, known) : undefined;
  if (near !== undefined && distance(key, near) <= Math.max(2, Math.floor(key.length / 4)))
    return `is not a known key; did you mean '${near}'?`;
  return known.length > 0 ? `is not a known key (expected one of ${known.join(', ')})` : 'is not a known key';
}

function valueAt(raw: unknown, at: readonly Segment[]): unknown {
  let node = raw;
  for (const segment of at) {
    if (node === null || typeof node !== 'object' || typeof segment === 'symbol') return undefined;
    if (!Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/** `targets.prod-raspi.approvers[1]`; keys that are not plain words are quoted: `tags["kubernetes.io/role"]`. */
export function formatPath(at: readonly Segment[]): string {
  let out = '';
  for (const segment of at) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z0-9_-]+$/.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** A value as it would appear in the file: strings quoted, control characters escaped, long values cut. */
function show(value: unknown, secret = false): string {
  if (secret) return '(a value that is not shown)';
  if (value === null) return '(empty)';
  if (typeof value === 'string') return `'${truncate(escapeControl(value))}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return truncate(JSON.stringify(value) ?? String(value));
}

function escapeControl(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point.
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function truncate(s: string): string {
  const chars = [...s];
  return chars.length <= MAX_SHOWN_CHARS ? s : `${chars.slice(0, MAX_SHOWN_CHARS - 1).join('')}…`;
}
