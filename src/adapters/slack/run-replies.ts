import type { RunDecisionResult } from '../../app/decide-run';
import type { RunHelpEntry, RunRefusal, RunSnippetResult } from '../../app/run-snippet';
import { MAX_PARAM_VALUE_CHARS, type ParamProblem, type Snippet } from '../../domain/snippet';
import { isUserGroupId, type Target } from '../../domain/target';
import { escapeMrkdwn, slackDate, truncate } from './block-kit';
import type { Reply } from './replies';

const USAGE = '`/run <target> <snippet> [name=value …]`';
const NOTHING = 'Nothing was run.';
/** A slash command's ephemeral answer is one message; a long catalogue is cut well inside its limits. */
const MAX_REPLY = 3_900;
const MAX_SHOWN_VALUE = 80;

/** What `/run` answers, only to the person who typed it. */
export function runReply(result: RunSnippetResult): Reply {
  switch (result.outcome) {
    case 'help':
      return { text: truncate(helpText(result.entries, result.mapped), MAX_REPLY) };
    case 'started':
      return { text: startedText(result) };
    case 'refused':
      return { text: truncate(refusalText(result.refusal), MAX_REPLY) };
  }
}

function startedText(result: Extract<RunSnippetResult, { outcome: 'started' }>): string {
  const { run } = result;
  const again = result.duplicate ? 'Already received: ' : '';
  const what = `${code(run.snippet)} on ${escapeMrkdwn(run.target)}`;
  if (result.approvalChannel && run.status === 'awaiting-approval')
    return `${again}${what} needs approval: sent to the approvers of ${escapeMrkdwn(run.target)} in <#${result.approvalChannel}> (run ${code(run.id)}). It runs once approved; the message in this channel follows it.`;
  return `${again}Running ${what} (run ${code(run.id)}): the results per node will appear in a thread under Keyturn's message in this channel.`;
}

function helpText(entries: readonly RunHelpEntry[], mapped: boolean): string {
  const lines = [
    `Usage: ${USAGE} — for example \`/run prod-raspi logs service=ssh lines=50\`. Values must match each parameter's pattern in full; Keyturn quotes them, and runs nothing but these catalogued snippets.`,
  ];
  if (!mapped)
    lines.push(
      "You are not mapped to an AWS identity in Keyturn's configuration (`people:`), so you cannot run snippets yet.",
    );
  if (entries.length === 0) lines.push('No snippets are configured for any target.');
  for (const { target, snippets, permission } of entries) {
    const may = !mapped
      ? ''
      : permission.allowed
        ? permission.via === 'runner'
          ? ' — you may run these (listed as a runner)'
          : ` — you may run these (active grant ${code(permission.grantId)}${permission.expiresAt ? ` until ${slackDate(permission.expiresAt)}` : ''})`
        : ` — you need an active grant (\`/access ${target.name} <duration> <reason>\`) or to be listed as a runner`;
    lines.push(
      `*${escapeMrkdwn(target.name)}*${target.description ? ` (${escapeMrkdwn(target.description)})` : ''}${may}`,
    );
    if (snippets.length === 0) lines.push('• no snippets');
    for (const s of snippets) lines.push(`• ${snippetLine(s)}`);
  }
  return lines.join('\n');
}

function snippetLine(s: Snippet): string {
  const params = Object.entries(s.params).map(([name, p]) => {
    const parts = [p.description ? escapeMrkdwn(p.description) : undefined, `pattern ${code(p.pattern)}`];
    if (p.default !== undefined) parts.push(`default ${code(p.default)}`);
    return `${code(`${name}=`)} (${parts.filter(Boolean).join('; ')})`;
  });
  const desc = s.description ? ` — ${escapeMrkdwn(s.description)}` : '';
  const approval = s.approval ? ' _(needs approval)_' : '';
  return `${code(s.name)}${desc}${approval}${params.length > 0 ? `: ${params.join(', ')}` : ''}`;
}

function refusalText(r: RunRefusal): string {
  switch (r.reason) {
    case 'unmapped-user':
      return `You (<@${r.user}>) are not mapped to an AWS identity, so Keyturn will not run commands for you. Ask whoever maintains Keyturn's configuration to add you under \`people:\` in keyturn.yml. ${NOTHING}`;
    case 'unknown-target': {
      const hint = r.suggestion ? ` Did you mean ${code(r.suggestion)}?` : '';
      const valid =
        r.valid.length > 0 ? ` Targets: ${r.valid.map(code).join(', ')}.` : ' No targets are configured.';
      return `There is no target called ${code(r.given)}.${hint}${valid} ${NOTHING}`;
    }
    case 'unknown-snippet': {
      const hint = r.suggestion ? ` Did you mean ${code(r.suggestion)}?` : '';
      return `${escapeMrkdwn(r.target.name)} has no snippet called ${code(r.given)}.${hint} ${available(r.target, r.available)} ${NOTHING}`;
    }
    case 'snippet-not-on-target':
      return `${code(r.snippet.name)} cannot run on ${escapeMrkdwn(r.target.name)}; it runs on ${r.snippet.targets.map((t) => escapeMrkdwn(t)).join(', ')}. ${available(r.target, r.available)} ${NOTHING}`;
    case 'bad-params':
      return `${paramText(r.problem, r.snippet, r.target)} ${NOTHING}`;
    case 'not-authorized':
      return `To run snippets on ${escapeMrkdwn(r.target.name)} you need an active grant on it, or to be listed under its \`runners\` in keyturn.yml. Request access with \`/access ${r.target.name} <duration> <reason>\`, then run this again. ${NOTHING}`;
  }
}

function available(target: Target, snippets: readonly Snippet[]): string {
  return snippets.length > 0
    ? `Snippets for ${escapeMrkdwn(target.name)}: ${snippets.map((s) => code(s.name)).join(', ')} — \`/run ${target.name}\` lists them with their parameters.`
    : `${escapeMrkdwn(target.name)} has no snippets.`;
}

/** Every refusal of a value names the parameter and its pattern, and shows what was received. */
function paramText(p: ParamProblem, snippet: Snippet, target: Target): string {
  const usage = `\`/run ${target.name} ${snippet.name}${Object.keys(snippet.params)
    .map((n) => ` ${n}=…`)
    .join('')}\``;
  switch (p.reason) {
    case 'not-key-value':
      return `Parameters go as \`name=value\`; ${shown(p.text)} is not one. Usage: ${usage}.`;
    case 'unknown-param':
      return p.known.length > 0
        ? `${code(snippet.name)} has no parameter ${code(p.name)}; it takes ${p.known.map(code).join(', ')}. Usage: ${usage}.`
        : `${code(snippet.name)} takes no parameters, and ${code(p.name)} was given. Usage: \`/run ${target.name} ${snippet.name}\`.`;
    case 'repeated-param':
      return `${code(p.name)} is given twice; give each parameter once. Usage: ${usage}.`;
    case 'missing-param':
      return `${code(snippet.name)} needs ${code(p.name)}: a value matching ${code(p.pattern)}. Usage: ${usage}.`;
    case 'too-long':
      return `The value of ${code(p.name)} is ${p.length.toLocaleString('en-US')} characters; no value may be longer than ${MAX_PARAM_VALUE_CHARS} (and it must match ${code(p.pattern)}).`;
    case 'forbidden-character':
      return `The value of ${code(p.name)} contains ${describeCodePoint(p.codePoint)}, which no parameter accepts (control, invisible and line-separator characters are always refused); it must match ${code(p.pattern)}.`;
    case 'no-match':
      return `The value of ${code(p.name)}, ${shown(p.value)}, does not match its pattern ${code(p.pattern)}; the whole value must match.`;
  }
}

const NAMED_CODE_POINTS = new Map<number, string>([
  [0x00, 'NUL'],
  [0x09, 'a tab'],
  [0x0a, 'a newline'],
  [0x0d, 'a carriage return'],
  [0x1b, 'ESC'],
  [0x200b, 'a zero-width space'],
  [0x200d, 'a zero-width joiner'],
  [0x202e, 'a right-to-left override'],
  [0x2028, 'a line separator'],
  [0xfeff, 'a byte order mark'],
]);

function describeCodePoint(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = NAMED_CODE_POINTS.get(cp);
  return name ? `${hex} (${name})` : hex;
}

/** A received value as text: control and invisible characters spelled out, cut, and never formatted. */
function shown(value: string): string {
  // Cc: control characters (NUL, newline, ESC …); Cf: invisible format characters (zero-width, bidi).
  const visible = value.replace(
    /[\p{Cc}\p{Cf}]/gu,
    (c) => `\\u${c.codePointAt(0)?.toString(16).padStart(4, '0')}`,
  );
  return `“${escapeMrkdwn(truncate(visible.replace(/`/g, 'ˋ'), MAX_SHOWN_VALUE))}”`;
}

/** Inline code; a backtick inside would end it early, so such text is quoted instead. */
function code(text: string): string {
  return text.includes('`') ? `“${escapeMrkdwn(text)}”` : `\`${escapeMrkdwn(text)}\``;
}

/** Why a click on a run's approval card changed nothing, only to the person who clicked. */
export function runDecisionRefusal(
  result: Extract<RunDecisionResult, { outcome: 'refused' }>,
  runId: string,
  target?: Target,
): Reply {
  const nothing = 'Nothing changed.';
  switch (result.reason) {
    case 'unknown-run':
      return { text: `Run ${code(runId)} does not exist. ${nothing}` };
    case 'unknown-target':
      return { text: `Run ${code(runId)} is for a target that is no longer configured. ${nothing}` };
    case 'not-approver':
      return {
        text: `Only the approvers of ${escapeMrkdwn(target?.name ?? 'this target')} can decide on this run${target ? ` (${approvers(target)})` : ''}. ${nothing}`,
      };
    case 'self-approval':
      return {
        text: `You cannot approve your own run; another approver of ${escapeMrkdwn(target?.name ?? 'the target')} has to. ${nothing}`,
      };
    case 'already-approved-by-you':
      return {
        text: `You already approved run ${code(runId)}; it needs another approver as well. ${nothing}`,
      };
    case 'not-pending':
      return {
        text: `Run ${code(runId)} is no longer waiting for a decision (${result.run?.status ?? 'decided'}). ${nothing}`,
      };
  }
}

function approvers(target: Target): string {
  return target.approvers.map((id) => (isUserGroupId(id) ? `<!subteam^${id}>` : `<@${id}>`)).join(', ');
}
