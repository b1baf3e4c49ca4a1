import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { PARAM_NAME, PLACEHOLDER, placeholderPlacementProblems } from '../../domain/snippet';
import { bool, isRecord, issue, named, noRepeats, strictObject, text } from './common';
import { TARGET_NAME } from './targets';

/*
 * snippets: Run Command shell commands with {{placeholders}} filled from anchored parameter patterns; with
 * the cross-check that every target a snippet names exists and can be selected by Run Command.
 */

const SNIPPET_NAME = TARGET_NAME;
// SendCommand's own patterns: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
const MAX_CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
const MAX_ERRORS = /^([1-9][0-9]*|0|[1-9][0-9]%|[0-9]%|100%)$/;
// SendCommand TimeoutSeconds starts at 30; AWS-RunShellScript's executionTimeout ends at 172800 (48h).
const MIN_TIMEOUT_SECONDS = 30;
const MAX_TIMEOUT_SECONDS = 172_800;
// SendCommand TimeoutSeconds (delivery): 30 s to 30 days.
const MAX_DELIVERY_TIMEOUT_SECONDS = 2_592_000;
// SendCommand Targets: at most 5 entries; Keyturn sends one `tag:<key>` entry per tag.
const MAX_RUN_COMMAND_TAGS = 5;

/** True when `pattern` can only match whole values: starts with ^, ends with an unescaped $, no top-level `|`. */
function anchoringProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('^')) return 'does not start with ^; anchor it so the whole value must match';
  let escaped = false;
  let inClass = false;
  let depth = 0;
  let lastIsEscaped = false;
  for (const ch of pattern) {
    lastIsEscaped = escaped;
    if (escaped) escaped = false;
    else if (ch === '\\') escaped = true;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    // `^a|b$` is "^a" or "b$": either alternative would let text around the value through to the shell.
    else if (ch === '|' && depth === 0)
      return 'has a top-level |, which unanchors it; group the alternatives: ^(a|b)$';
  }
  if (!pattern.endsWith('$') || lastIsEscaped)
    return 'does not end with $; anchor it so the whole value must match';
  return undefined;
}

function compile(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

const paramPattern = text().superRefine((pattern, ctx) => {
  // Parameters are spliced into a shell command; the pattern is the only thing standing between a Slack
  // message and the command line, so it must compile and match the whole value.
  if (compile(pattern) === undefined) {
    issue(ctx, 'is not a valid JavaScript regular expression');
    return;
  }
  const problem = anchoringProblem(pattern);
  if (problem) issue(ctx, problem);
});

const snippetParam = strictObject(
  { pattern: paramPattern, default: text().optional(), description: text().optional() },
  'a mapping with pattern (and optional default, description)',
).superRefine((p, ctx) => {
  const re = compile(p.pattern);
  if (p.default !== undefined && re && !re.test(p.default))
    issue(ctx, `does not match its own pattern ${p.pattern}`, ['default']);
});

/** SSM accepts both `10` and `10%`; YAML reads the first as a number, which is fine to take as text. */
const countOrPercent = (pattern: RegExp, rule: string) =>
  z.preprocess(
    (v) => (typeof v === 'number' ? String(v) : v),
    z.string({ error: rule }).regex(pattern, { error: rule }),
  );

/** A SendCommand timeout in whole seconds, from the least SSM accepts to `max` (`maxInWords` in the message). */
const seconds = (max: number, maxInWords: string) =>
  z
    .number({ error: 'is not a number of seconds' })
    .int({ error: 'is not a whole number of seconds' })
    .min(MIN_TIMEOUT_SECONDS, { error: `is under ${MIN_TIMEOUT_SECONDS} seconds, the least SSM accepts` })
    .max(max, { error: `is over ${max} seconds (${maxInWords}), the most SSM accepts` });

const snippet = strictObject(
  {
    description: text().default(''),
    run: text().refine((s) => s.trim() !== '', { error: 'is empty; give the shell command to run' }),
    targets: z
      .array(text(), { error: 'is not a list of target names' })
      .min(1, { error: 'is empty; list the targets this snippet may run on' })
      .superRefine(noRepeats('targets')),
    params: z
      .record(
        text().regex(PARAM_NAME, { error: 'is not a parameter name (lower case letters, digits, _)' }),
        snippetParam,
        { error: 'is not a mapping of parameter name → { pattern, default }' },
      )
      .default({}),
    approval: bool().default(false),
    timeout: seconds(MAX_TIMEOUT_SECONDS, '48h').optional(),
    deliveryTimeout: seconds(MAX_DELIVERY_TIMEOUT_SECONDS, '30 days').optional(),
    maxConcurrency: countOrPercent(
      MAX_CONCURRENCY,
      'is not a node count or percentage like 10 or 50%',
    ).optional(),
    maxErrors: countOrPercent(MAX_ERRORS, 'is not an error count or percentage like 0, 1 or 10%').optional(),
  },
  'a mapping of snippet settings',
).superRefine((s, ctx) => {
  const used = new Set<string>();
  for (const match of s.run.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!PARAM_NAME.test(name)) {
      issue(ctx, `contains ${match[0]}, which is not a placeholder like {{name}}`, ['run']);
      continue;
    }
    used.add(name);
    if (!Object.hasOwn(s.params, name))
      issue(ctx, `uses {{${name}}}, which params does not declare`, ['run']);
  }
  for (const name of Object.keys(s.params))
    if (!used.has(name)) issue(ctx, `is declared but run never uses {{${name}}}`, ['params', name], false);
  // Quoting only protects a value that stands as its own shell word (src/domain/snippet.ts).
  for (const problem of placeholderPlacementProblems(s.run)) issue(ctx, problem, ['run'], false);
});

export const snippets = z
  .record(
    named(SNIPPET_NAME, 'is not a snippet name (lower case letters, digits and -, at most 63)'),
    snippet,
    {
      error: 'is not a mapping of snippet name → settings',
    },
  )
  .default({});

/** Every target a snippet names is defined, and Run Command can select its nodes. */
export function checkSnippetTargets(
  snippets: Record<string, unknown>,
  targets: Record<string, unknown>,
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  const names = Object.keys(targets);
  for (const [name, s] of Object.entries(snippets)) {
    const list: unknown = isRecord(s) ? s.targets : undefined;
    if (!Array.isArray(list)) continue;
    list.forEach((t, i) => {
      if (typeof t === 'string' && names.includes(t)) {
        // SendCommand takes at most 5 Targets entries, one per tag (SendCommand API reference, Targets).
        const target: unknown = targets[t];
        const tags: unknown = isRecord(target) ? target.tags : undefined;
        const count = isRecord(tags) ? Object.keys(tags).length : 0;
        if (count > MAX_RUN_COMMAND_TAGS)
          issue(
            ctx,
            `names a target with ${count} tags; Run Command can select nodes by at most ${MAX_RUN_COMMAND_TAGS} tags`,
            ['snippets', name, 'targets', i],
          );
      }
      if (typeof t !== 'string' || names.includes(t)) return;
      const near = names.length > 0 ? closest(t, names) : undefined;
      const hint = near !== undefined && distance(t, near) <= 2 ? `; did you mean '${near}'?` : '';
      issue(ctx, `is not a target defined under targets${hint}`, ['snippets', name, 'targets', i]);
    });
  }
}
