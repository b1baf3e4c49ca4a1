/*
 * Run Command snippets: a catalogued shell command with `{{param}}` placeholders. Nothing a Slack
 * user types ever reaches the shell except as the value of a declared parameter that matched its
 * pattern in full, passed the rules below, and was put on the command line single-quoted. There is
 * no way to run anything but a rendered template.
 */

import { err, ok, type Result } from './result';
import { PLACEHOLDER } from './snippet-template';

// The template's syntax and where placeholders may stand: snippet-template.ts (config validation reads them here).
export { PLACEHOLDER, placeholderPlacementProblems } from './snippet-template';

export interface SnippetParam {
  /** Anchored (`^…$`) JavaScript regular expression the whole value must match (config validates the anchoring). */
  pattern: string;
  default?: string;
  description?: string;
}

export interface Snippet {
  name: string;
  description: string;
  /** The shell command line, with `{{name}}` where a parameter goes. */
  run: string;
  targets: readonly string[];
  params: Readonly<Record<string, SnippetParam>>;
  approval: boolean;
  /** Execution timeout in seconds (AWS-RunShellScript `executionTimeout`); AWS's default when unset. */
  timeout?: number;
  /** Seconds SSM waits for a node to start the command (SendCommand `TimeoutSeconds`). */
  deliveryTimeout?: number;
  /** SendCommand MaxConcurrency, e.g. `10` or `50%`. */
  maxConcurrency?: string;
  /** SendCommand MaxErrors, e.g. `0` or `10%`. */
  maxErrors?: string;
}

export const PARAM_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Longest value accepted whatever the pattern says: a parameter names a unit, a line count, a path,
 * not a payload, and a bound keeps an admin's regular expression from being fed megabytes.
 */
export const MAX_PARAM_VALUE_CHARS = 256;

/** What `/run` was asked. `args` is the raw text after the snippet name, parsed by `resolveParams`. */
export type RunCommand =
  | { kind: 'help'; target?: string }
  | { kind: 'run'; target: string; snippet: string; args: string };

/**
 * Reads the text after `/run`: nothing or `help` → help; `<target>` (or `<target> help`) → that
 * target's snippets; otherwise `<target> <snippet> [key=value …]`. Slack escapes `&`, `<` and `>` in
 * slash command text (https://docs.slack.dev/messaging/formatting-message-text#escaping); they are
 * unescaped first so a value is checked exactly as it was typed.
 */
export function parseRunCommand(text: string): RunCommand {
  const unescaped = unescapeSlack(text).replace(/^[ \t]+|[ \t]+$/g, '');
  const first = /^[^ \t]+/.exec(unescaped)?.[0];
  if (first === undefined || first.toLowerCase() === 'help') return { kind: 'help' };
  const afterTarget = unescaped.slice(first.length).replace(/^[ \t]+/, '');
  const second = /^[^ \t]+/.exec(afterTarget)?.[0];
  if (second === undefined || second.toLowerCase() === 'help') return { kind: 'help', target: first };
  return {
    kind: 'run',
    target: first,
    snippet: second,
    args: afterTarget.slice(second.length).replace(/^[ \t]+/, ''),
  };
}

function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Why parameters were refused. Every refusal of a value names the parameter and its pattern. */
export type ParamProblem =
  /** Text before the first `key=value`, e.g. `/run prod-raspi logs ssh`. */
  | { reason: 'not-key-value'; text: string }
  | { reason: 'unknown-param'; name: string; known: readonly string[] }
  | { reason: 'repeated-param'; name: string }
  | { reason: 'missing-param'; name: string; pattern: string }
  | { reason: 'too-long'; name: string; pattern: string; length: number; max: number }
  /** A control, format (zero-width, bidi override) or line-separator character, or a lone surrogate. */
  | { reason: 'forbidden-character'; name: string; pattern: string; codePoint: number }
  | { reason: 'no-match'; name: string; pattern: string; value: string };

// A parameter starts at a space-separated word with `=` after a non-empty name. Only spaces and tabs
// separate words: a newline or any other whitespace stays inside the value, where the rules refuse it
// and the refusal names the parameter, rather than silently starting a new word.
const PARAM_START = /(?:^|[ \t]+)([^\s=]+)=/g;

/**
 * Parses `key=value …` against the snippet's declared parameters, fills defaults and checks every
 * value. A value runs until the next ` key=`, so a value with spaces (or an `&& reboot` tail) is
 * checked as one value against its pattern, and refused by it.
 */
export function resolveParams(
  snippet: Pick<Snippet, 'params'>,
  args: string,
): Result<Record<string, string>, ParamProblem> {
  const declared = snippet.params;
  const known = Object.keys(declared);
  const given = new Map<string, string>();
  const starts = [...args.matchAll(PARAM_START)];
  const firstAt = starts[0]?.index ?? args.length;
  const stray = args.slice(0, firstAt).trim();
  if (stray !== '') return err({ reason: 'not-key-value', text: stray });

  for (let i = 0; i < starts.length; i++) {
    const match = starts[i] as RegExpExecArray;
    const name = match[1] as string;
    const valueStart = match.index + match[0].length;
    const valueEnd = starts[i + 1]?.index ?? args.length;
    if (!Object.hasOwn(declared, name)) return err({ reason: 'unknown-param', name, known });
    if (given.has(name)) return err({ reason: 'repeated-param', name });
    given.set(name, args.slice(valueStart, valueEnd));
  }
  return resolveParamValues(snippet, Object.fromEntries(given));
}

/**
 * Checks values given one per parameter (the run form's fields), with the same rules as typed
 * `key=value` pairs: unknown names refused, defaults filled in, every value matched in full.
 */
export function resolveParamValues(
  snippet: Pick<Snippet, 'params'>,
  given: Readonly<Record<string, string>>,
): Result<Record<string, string>, ParamProblem> {
  const declared = snippet.params;
  const known = Object.keys(declared);
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) return err({ reason: 'unknown-param', name, known });
  }
  const values: Record<string, string> = {};
  for (const [name, param] of Object.entries(declared)) {
    const value = (Object.hasOwn(given, name) ? given[name] : undefined) ?? param.default;
    if (value === undefined) return err({ reason: 'missing-param', name, pattern: param.pattern });
    const problem = checkValue(name, param.pattern, value);
    if (problem) return err(problem);
    values[name] = value;
  }
  return ok(values);
}

/** The rules every value meets, whatever its pattern allows, then the pattern itself, matched in full. */
export function checkValue(name: string, pattern: string, value: string): ParamProblem | undefined {
  // Length first: an admin's pattern never sees an unbounded input.
  if (value.length > MAX_PARAM_VALUE_CHARS)
    return { reason: 'too-long', name, pattern, length: value.length, max: MAX_PARAM_VALUE_CHARS };
  const forbidden = forbiddenCodePoint(value);
  if (forbidden !== undefined) return { reason: 'forbidden-character', name, pattern, codePoint: forbidden };
  if (!matchesWhole(pattern, value)) return { reason: 'no-match', name, pattern, value };
  return undefined;
}

// Cc: control characters (NUL, newline, ESC …); Cf: format characters (zero-width joiners, bidi overrides,
// which make a value read differently from what runs); Zl/Zp: Unicode line and paragraph separators.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function forbiddenCodePoint(value: string): number | undefined {
  const found = FORBIDDEN.exec(value);
  if (found) return found[0].codePointAt(0);
  // A lone surrogate cannot be encoded as UTF-8: SSM would receive a replacement character instead.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const paired = c <= 0xdbff && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (!paired) return c;
    i++;
  }
  return undefined;
}

/**
 * Config refuses unanchored patterns; this checks the match covers the whole value anyway, so a
 * pattern that slipped through (or a future flag) can never let text around a match reach the shell.
 */
function matchesWhole(pattern: string, value: string): boolean {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return false;
  }
  const match = re.exec(value);
  return match !== null && match.index === 0 && match[0].length === value.length;
}

/**
 * POSIX single quoting: inside '…' every character is literal, so the only thing to handle is the
 * single quote itself, written as '\'' (close, escaped quote, reopen). The result is always exactly
 * one shell word whose value is `value`, in any POSIX shell.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** The command line to run: every placeholder replaced by its value, quoted. */
export function renderCommand(run: string, values: Readonly<Record<string, string>>): string {
  return run.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name];
    // Config validation makes every placeholder a declared parameter and resolveParams fills them all.
    if (value === undefined) throw new Error(`no value for {{${name}}}`);
    return shellQuote(value);
  });
}

/** The snippets that may run on a target, in config order. */
export function snippetsFor(target: string, snippets: Readonly<Record<string, Snippet>>): Snippet[] {
  return Object.values(snippets).filter((s) => s.targets.includes(target));
}
