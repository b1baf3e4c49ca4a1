import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { KNOWN_KEYS_MARK } from './schema';

/*
 * What the loader says about a keyturn.yml it refuses: zod issues turned into problems that name the key,
 * the value and the rule (secrets never shown, long values cut), and the one-line-per-problem format.
 */

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

const MAX_SHOWN_CHARS = 60;
// A value under a key named like this is never printed, even when it is the thing that is wrong.
const SECRET_KEY = /token|secret|passw(or)?d|passphrase|credential|private[-_]?key/i;

export function formatConfigError(e: ConfigError): string {
  return e.problems.map((p) => `${e.source}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('\n');
}

// Marks issues the schema has no wording for; they get a generic rule built from the issue itself.
export const DEFAULT_MESSAGE = '\u0000default';

type Segment = PropertyKey;

/**
 * zod drops a `__proto__` key from maps without a word (it cannot be a plain key of a JS object). Under
 * `tags` that would silently widen a grant, so it is refused wherever it appears.
 */
export function findProtoKeys(node: unknown, at: Segment[]): ConfigProblem[] {
  if (node === null || typeof node !== 'object') return [];
  const problems: ConfigProblem[] = [];
  for (const [key, child] of Object.entries(node)) {
    const here = [...at, Array.isArray(node) ? Number(key) : key];
    if (key === '__proto__') problems.push(problem(here, undefined, 'is a key keyturn.yml cannot use'));
    else problems.push(...findProtoKeys(child, here));
  }
  return problems;
}

export function toProblems(issues: readonly z.core.$ZodIssue[], raw: unknown): ConfigProblem[] {
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
