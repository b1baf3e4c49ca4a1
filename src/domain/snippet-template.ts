/*
 * A snippet's run line as the shell reads it: where a {{placeholder}} may stand so that a single-quoted
 * value stays one literal word in every shell SSM may run it with. Config validation asks this once per
 * snippet; rendering (snippet.ts) relies on it. It is a small shell lexer, so it is kept apart from
 * the parameter and value rules.
 */

/** `{{name}}` in a run line. Anything between braces is captured so `{{ x }}` can be reported, never left literal. */
export const PLACEHOLDER = /\{\{(.*?)\}\}/gs;
/** Every placeholder in a text, to strip them all. */
const PLACEHOLDER_ANYWHERE_GLOBAL = /\{\{.*?\}\}/gs;

/**
 * Where a placeholder sits decides whether quoting protects it. Inside "…" or `…` a value's `$(…)`
 * would still run, inside '…' a value's own quote would end the quoting, after a backslash the
 * opening quote would be literal, and a here-document body expands `$(…)` whatever the quoting.
 * SSM's AWS-RunShellScript runs the line with `sh`, which is bash on Amazon Linux and RHEL and dash
 * on Debian, so every context where bash, ksh or zsh do not take a single-quoted word literally is
 * refused too (each one was shown to run a value's `$(…)` or change it; see snippet.test.ts):
 * `$'…'` is ANSI-C quoting, where `\'` does not end the quote; arithmetic (`$((…))`, `((…))`,
 * `$[…]`, array subscripts, `[[ … -eq … ]]`, `${x:offset}`) treats quotes as plain characters and
 * expands `$(…)` inside them; ksh and zsh expand `~'name'` and zsh `='cmd'` despite the quotes.
 *
 * The line is read as the shell reads it, with nesting: `"$(echo {{x}})"` is safe (the placeholder
 * is a word of the inner command), `"$(echo " {{x}} ")"` is not (it is inside the inner quotes), and
 * a `#` comment's apostrophe opens nothing. Where shells disagree on where something ends (quotes
 * inside `${…}` or arithmetic, `$'…'` holding `\'`), the template is refused rather than guessed at.
 * Config validation refuses these placements (one message per problem, as rules).
 */
export function placeholderPlacementProblems(template: string): string[] {
  let run = template;
  const problems: string[] = [];
  if (!PLACEHOLDER_ANYWHERE.test(run)) return problems;
  // Every backslash-newline joined, even a literal one in quotes: that can only find more `<<`.
  if (/(^|[^<])<<(?!<)/.test(stripQuoted(run.replace(/\\\n/g, ''))))
    problems.push(
      'uses a here-document (<<) together with {{placeholders}}; a here-document body expands $(…) even in quoted values, so pass values as arguments instead',
    );
  let starts = placeholderStarts(run);
  const problem = (text: string) => {
    if (!problems.includes(text)) problems.push(text);
  };
  /** Placeholders in run[from, to), which a quoted stretch holds. */
  const inside = (from: number, to: number, what: string) => {
    for (let j = from; j < to; j++) {
      const placeholder = starts.get(j);
      if (placeholder !== undefined)
        problem(`puts ${placeholder} inside ${what}; write it unquoted (Keyturn quotes every value itself)`);
    }
  };
  const stack: Frame[] = [{ kind: 'command', close: '', wordStart: 0, cases: 0, words: [] }];
  for (let i = 0; i < run.length; i++) {
    const frame = stack[stack.length - 1] as Frame;
    const placeholder = starts.get(i);
    if (placeholder !== undefined) {
      const found = placementProblem(placeholder, run, i, stack);
      if (found !== undefined) problem(found);
      i += placeholder.length - 1;
      continue;
    }
    const ch = run[i] as string;
    const at = (text: string) => run.startsWith(text, i);
    const push = (kind: FrameKind, open: string, close: string) => {
      i += open.length - 1;
      stack.push({ kind, close, wordStart: i + 1, cases: 0, words: [] });
    };
    if (ch === '\\' && run[i + 1] === '\n') {
      // A line continuation, outside single quotes and comments (skipped whole below): the shell
      // removes it before reading on, so `$\<newline>{{x}}` is `${{x}}`. Read on as the shell does.
      run = run.slice(0, i) + run.slice(i + 2);
      starts = placeholderStarts(run);
      i--;
      continue;
    }
    // A backslash escapes the next character, but must not swallow a placeholder, checked next round;
    // nor may a `$` (`${{x}}` is not a `${…}`): the placeholder's own check refuses both.
    if (ch === '\\') {
      if (!starts.has(i + 1)) i++;
      continue;
    }
    if (ch === '$' && starts.has(i + 1)) continue;
    if (frame.kind === 'backtick') {
      if (ch === '`') stack.pop();
      continue;
    }
    if (frame.kind === 'double') {
      if (ch === '"') stack.pop();
      else if (ch === '`') push('backtick', '`', '`');
      else if (at('$((')) push('arithmetic', '$((', '))');
      else if (at('$(')) push('command', '$(', ')');
      else if (at('${')) push('parameter', '${', '}');
      else if (at('$[')) push('arithmetic', '$[', ']');
      continue;
    }
    // Unquoted text: a command, or inside ${…}, arithmetic or [[ … ]].
    const closes = frame.close !== '' && at(frame.close) && !(frame.kind === 'command' && frame.cases > 0);
    if (closes) {
      i += frame.close.length - 1;
      stack.pop();
      continue;
    }
    if (
      (ch === "'" || ch === '"' || at("$'")) &&
      (frame.kind === 'parameter' || frame.kind === 'arithmetic')
    ) {
      problem(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's ${…}, named in the message.
        `puts quotes inside ${frame.kind === 'parameter' ? '${…}' : 'arithmetic'}, where bash, dash, ksh and zsh disagree on what they mean and where it ends; with {{placeholders}} in the line, move the quoted text out (e.g. into a variable set before)`,
      );
      continue;
    }
    if (at("$'")) {
      // ANSI-C quoting in bash, ksh and zsh, where \' does not end the string; dash reads '…' after a $.
      let j = i + 2;
      let escapedQuote = false;
      while (j < run.length && run[j] !== "'") {
        if (run[j] === '\\') {
          if (run[j + 1] === "'") escapedQuote = true;
          j += 2;
        } else j++;
      }
      inside(i + 2, j, STATE_WORDS.single);
      if (escapedQuote)
        problem(
          "uses \\' inside $'…', which bash, ksh and zsh read as a quote inside the string and dash as its end; with {{placeholders}} in the line, write the text in plain '…' quotes",
        );
      i = j;
      continue;
    }
    if (ch === "'") {
      const close = run.indexOf("'", i + 1);
      const j = close < 0 ? run.length : close;
      inside(i + 1, j, STATE_WORDS.single);
      i = j;
      continue;
    }
    if (ch === '"') push('double', '"', '"');
    else if (ch === '`') push('backtick', '`', '`');
    else if (at('$((')) push('arithmetic', '$((', '))');
    else if (at('$(')) push('command', '$(', ')');
    else if (at('${')) push('parameter', '${', '}');
    else if (at('$[')) push('arithmetic', '$[', ']');
    else if (at('((') && frame.kind !== 'parameter') push('arithmetic', '((', '))');
    else if (at('[[') && frame.kind === 'command' && i === frame.wordStart) push('conditional', '[[', ']]');
    else if (ch === '(' && frame.kind !== 'parameter') {
      // `name=(…)`: its elements are values of the command that assigns them (`declare -ai a=(…)`).
      const assignedBy = frame.kind === 'command' && run[i - 1] === '=' ? [...frame.words] : undefined;
      push(frame.kind, '(', ')');
      if (assignedBy) (stack[stack.length - 1] as Frame).assignedBy = assignedBy;
    } else if (frame.kind === 'command' && i === frame.wordStart && ch === '#') {
      // A comment, to the end of the line; a value cannot hold a newline, so it cannot end one.
      const newline = run.indexOf('\n', i);
      i = (newline < 0 ? run.length : newline) - 1;
    } else if (
      frame.kind === 'command' &&
      i === frame.wordStart &&
      /^(case|esac)(?![^ \t\n;&|()<>])/.test(run.slice(i, i + 5))
    ) {
      // In `case … in a) …;; esac` a pattern's `)` does not close a `$(`.
      frame.cases = Math.max(0, frame.cases + (at('case') ? 1 : -1));
      i += 3;
    } else if (WORD_BREAK.test(ch)) {
      // The words of the current simple command, so a placeholder knows which command takes it.
      const word = run.slice(frame.wordStart, i);
      if (word !== '') frame.words.push(word);
      if (/[;&|\n]/.test(ch)) frame.words = [];
      frame.wordStart = i + 1;
    }
  }
  return problems;
}

type FrameKind = 'command' | 'double' | 'backtick' | 'parameter' | 'arithmetic' | 'conditional';

/** A context the shell is in: what closes it, where its current word began, open `case`s. */
interface Frame {
  kind: FrameKind;
  close: string;
  wordStart: number;
  cases: number;
  /** The words of the current simple command read so far (as written, quotes and all). */
  words: string[];
  /** In an array assignment `name=(…)`: the words of the command before it, which assigns the values. */
  assignedBy?: string[];
}

/** Unquoted characters that end a shell word. */
const WORD_BREAK = /[ \t\n;&|()<>]/;

/** Why a placeholder at `at`, with the shell in `stack`'s contexts, would not be one literal word. */
function placementProblem(
  placeholder: string,
  run: string,
  at: number,
  stack: readonly Frame[],
): string | undefined {
  const kinds = new Set(stack.map((f) => f.kind));
  const frame = stack[stack.length - 1] as Frame;
  if (kinds.has('backtick'))
    return `puts ${placeholder} inside ${STATE_WORDS.backtick}; write it unquoted (Keyturn quotes every value itself)`;
  if (frame.kind === 'double')
    return `puts ${placeholder} inside ${STATE_WORDS.double}; write it unquoted (Keyturn quotes every value itself)`;
  if (run[at - 1] === '\\' && !escapedBackslash(run, at - 1))
    return `puts ${placeholder} right after a backslash, which would make its opening quote literal`;
  if (run[at - 1] === '$' && !(run[at - 2] === '\\' && !escapedBackslash(run, at - 2)))
    return `puts ${placeholder} right after $, which bash, ksh and zsh read as $'…' (ANSI-C quoting) where a value's \\' does not end the quote; write ${placeholder} without the $, or '$'${placeholder} for a literal $ before the value`;
  // Anywhere under these, even in a $(…) inside them: its output would be evaluated as well.
  if (kinds.has('arithmetic'))
    return `puts ${placeholder} inside arithmetic ($((…)), ((…)) or $[…]), where quotes are plain characters and a value's $(…) runs; pass it to a command as its own word instead, e.g. expr ${placeholder} + 1`;
  if (kinds.has('parameter'))
    return `puts ${placeholder} inside \${…}, where bash evaluates offsets and subscripts as arithmetic and a value's $(…) runs; pass it as its own word instead`;
  if (kinds.has('conditional'))
    return `puts ${placeholder} inside [[ … ]], where bash and ksh evaluate -eq, -lt … operands as arithmetic and a value's $(…) runs; use [ … ] (test) instead`;
  const before = run.slice(frame.wordStart, at);
  if (/^[A-Za-z_][A-Za-z0-9_]*\[[^\]]*$/.test(before))
    return `puts ${placeholder} inside an array subscript (${before}…), which bash evaluates as arithmetic, where a value's $(…) runs; pass it as its own word instead`;
  // bash and ksh read `$a[` as $a and a plain [; zsh subscripts it, and runs a quoted value's $(…) there.
  const subscripted = /\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])\[[^\]]*$/.exec(before);
  if (subscripted)
    return `puts ${placeholder} inside a zsh subscript ($${subscripted[1]}[…]), which zsh evaluates, where a value's $(…) runs even when quoted; pass it as its own word instead`;
  if (/(^|[=:])~[^/]*$/.test(before))
    return `puts ${placeholder} in a ~ prefix, which ksh and zsh expand to a home directory even when quoted; write '~'${placeholder} for a literal ~, or ~/${placeholder} for a path under the home directory`;
  if (before.startsWith('='))
    return `puts ${placeholder} in a word that starts with =, which zsh expands to a command's path even when quoted; write '='${placeholder} for a literal =`;
  // zsh drops an empty quoted value before it reads a word's start: with an empty value `{{x}}=ls`
  // becomes `''=ls`, which zsh expands to /usr/bin/ls, and `{{x}}~root` becomes /root.
  const rest = run.slice(at + placeholder.length).replace(/^(\{\{.*?\}\})+/s, '');
  if (before.replace(PLACEHOLDER_ANYWHERE_GLOBAL, '') === '' && /^[=~]/.test(rest))
    return `starts a word with ${placeholder} followed by ${rest[0]}, which zsh expands (${rest[0] === '=' ? "to a command's path" : 'to a home directory'}) when the value is empty; put ${placeholder} after the ${rest[0]}, or write '${rest[0]}' quoted`;
  const command =
    frame.assignedBy !== undefined
      ? builtinReadingNames(frame.assignedBy, '=', '')
      : builtinReadingNames(frame.words, before, run.slice(at).split(/[;&|\n]/)[0] ?? '');
  if (command !== undefined)
    return `puts ${placeholder} in an argument of ${command}, which bash, ksh or zsh read as a variable name or as arithmetic, where a value's $(…) runs even when quoted; pass it to a command that takes it as data instead (e.g. printf %s, expr, or [ … = … ])`;
  return undefined;
}

/** Builtins that read any argument as a variable name or as arithmetic (a subscript is arithmetic). */
const NAME_OR_ARITHMETIC_BUILTINS = new Set([
  'let',
  'unset',
  'read',
  'readarray',
  'mapfile',
  'getopts',
  'shift',
  'ulimit',
  'eval',
  'integer',
]);
/** Builtins that read `name=value` words: the name is a variable name, the value arithmetic with -i. */
const DECLARATION_BUILTINS = new Set(['declare', 'typeset', 'local', 'readonly', 'export']);
/** Words before a command's name that leave it a builtin: `if let …`, `builtin let …`, `x=1 let …`. */
const COMMAND_PREFIXES = new Set([
  'if',
  'then',
  'else',
  'elif',
  'do',
  'while',
  'until',
  '!',
  '{',
  'time',
  'command',
  'builtin',
]);
const INTEGER_TEST = /^-(eq|ne|lt|le|gt|ge)$/;

/**
 * The builtin that would read the placeholder's word as a name or as arithmetic, or undefined:
 * `words` are the command's words before it, `before` the start of its own word, `rest` the command
 * from the placeholder on. Shown to run a quoted value's `$(…)` (snippet.test.ts): bash's let,
 * declare -i, read, unset, printf -v and test -v; mksh's [ … -eq … ]; zsh's typeset, export and read.
 */
function builtinReadingNames(words: readonly string[], before: string, rest: string): string | undefined {
  const plain = words.map((w) => w.replace(/['"\\]/g, ''));
  const at = plain.findIndex(
    (w, k) =>
      !COMMAND_PREFIXES.has(w) &&
      w !== 'function' &&
      plain[k - 1] !== 'function' &&
      // An assignment before the command, or a function's header (`f(){`, `function f {`): its body is read on.
      !/^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(w) &&
      !/\(\)\{?$/.test(w),
  );
  if (at < 0) return undefined;
  const name = plain[at] as string;
  const args = plain.slice(at + 1);
  const previous = before === '' ? args.at(-1) : undefined;
  if (NAME_OR_ARITHMETIC_BUILTINS.has(name)) return name;
  if (DECLARATION_BUILTINS.has(name))
    return !before.includes('=') || args.some((a) => /^[-+][A-Za-z]*i/.test(a)) ? name : undefined;
  if (name === 'printf') return previous === '-v' ? name : undefined;
  if (name === 'test' || name === '[') {
    const all = [...args, ...rest.split(/\s+/)];
    return previous === '-v' || all.some((a) => INTEGER_TEST.test(a)) ? name : undefined;
  }
  return undefined;
}

const PLACEHOLDER_ANYWHERE = /\{\{.*?\}\}/s;

/** Where each placeholder starts in `run`, and its text. */
function placeholderStarts(run: string): Map<number, string> {
  return new Map([...run.matchAll(PLACEHOLDER)].map((m) => [m.index, m[0]]));
}

const STATE_WORDS = { single: "single quotes '…'", double: 'double quotes "…"', backtick: 'backticks `…`' };

/** True when the backslash at `at` is itself escaped by an odd run of backslashes before it. */
function escapedBackslash(text: string, at: number): boolean {
  let count = 0;
  for (let i = at - 1; i >= 0 && text[i] === '\\'; i--) count++;
  return count % 2 === 1;
}

/** The run line with quoted stretches blanked, so `echo '<<'` is not taken for a here-document. */
function stripQuoted(run: string): string {
  return run.replace(/'[^']*'|"(?:\\.|[^"\\])*"/gs, '');
}
