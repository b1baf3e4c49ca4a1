import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { checkValue, renderCommand } from '../../../src/domain/snippet';
import { type ShellToken, shellWords } from '../../support/shell-words';

/**
 * Property: whatever value a parameter accepts, the rendered command has the same shell structure as
 * the template with a harmless value in its place: the same words and operators, nothing unquoted to
 * expand, and the parameter's word is exactly the value. The pattern here accepts anything, so only
 * the rules every value meets (length, no control or invisible characters) and the quoting stand
 * between the value and the shell.
 */
const ANYTHING = '^[\\s\\S]*$';

const TEMPLATES = [
  'journalctl -u {{a}} -n {{b}} --no-pager',
  'grep -e {{a}} /var/log/syslog | tail -n 5; echo done',
  'printf \'%s\\n\' --x={{a}}{{b}} && ls "$HOME" # {{b}} in a comment stays a comment',
  'cd /tmp && (find . -name {{a}} -print) > /dev/null 2>&1 || echo {{b}}',
];

/** Characters a shell gives meaning to, and look-alikes, so the generator hits them often. */
const SHELLISH = [
  ...';&|$()`\'"\\\n\t *?[]{}~#<>!=%^,-/.:@',
  '$(',
  '${',
  "'\\''",
  '；',
  '＄',
  '‘',
  '’',
  '\u0000',
  '\u200b',
  'é',
  '😀',
  'a',
  '0',
];

const value = fc.oneof(
  fc.string({ unit: fc.constantFrom(...SHELLISH), maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ maxLength: 60 }),
);

const accepted = (v: string) => checkValue('p', ANYTHING, v) === undefined;

/** The template rendered with marker words, then the markers replaced by the values: the expected structure. */
function expectedStructure(template: string, values: { a: string; b: string }): ShellToken[] {
  const markers = { a: 'MARKERaaa', b: 'MARKERbbb' };
  return shellWords(renderCommand(template, markers)).map((t) =>
    t.type === 'word'
      ? // A function, not a string: a replacement string would give `$'`, `$&` … their special meaning.
        { ...t, value: t.value.replaceAll(markers.a, () => values.a).replaceAll(markers.b, () => values.b) }
      : t,
  );
}

describe('no accepted value can change the parsed shell command', () => {
  it.each(TEMPLATES)('%s', (template) => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        fc.pre(accepted(a) && accepted(b));
        expect(shellWords(renderCommand(template, { a, b }))).toEqual(expectedStructure(template, { a, b }));
      }),
      { numRuns: 400 },
    );
  });

  it('generates shell metacharacters often enough to matter', () => {
    // Guards the property above against a generator that quietly stopped producing anything dangerous.
    const samples = fc.sample(value.filter(accepted), { numRuns: 500, seed: 42 });
    expect(samples.filter((v) => /[;&|$`'"\\]/.test(v)).length).toBeGreaterThan(100);
  });
});

describe('a real POSIX shell receives each accepted value as exactly one argument', () => {
  // /bin/sh (dash on Debian/Ubuntu) parses the rendered line; printf echoes each argument NUL-terminated.
  const template = "printf '%s\\0' {{a}} {{b}}";

  it('for generated values', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        fc.pre(accepted(a) && accepted(b));
        const out = execFileSync('sh', ['-c', renderCommand(template, { a, b })], { env: {} });
        expect(out.toString('utf8').split('\0')).toEqual([a, b, '']);
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    ['$(echo PWNED)', '`id`'],
    ["'; echo PWNED; echo '", '&& reboot'],
    ['a\\', "'\\''"],
    ['*', '~root'],
  ])('for %j and %j', (a, b) => {
    const out = execFileSync('sh', ['-c', renderCommand(template, { a, b })], { env: {} });
    expect(out.toString('utf8')).toBe(`${a}\0${b}\0`);
  });
});
