// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell ${…} and ${{placeholder}} in run lines are literal text under test.
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { checkValue, renderCommand } from '../../../src/domain/snippet';
import { PLACEHOLDER, placeholderPlacementProblems } from '../../../src/domain/snippet-template';
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

/**
 * SSM's AWS-RunShellScript runs the line with `sh`: bash on Amazon Linux and RHEL (which, started as
 * `sh`, is bash in POSIX mode), dash on Debian and Raspberry Pi OS. ksh and zsh are checked too where
 * installed: a template that holds in every one of them does not depend on which `sh` a node has.
 * bash and sh are always present; .ci/run installs zsh, mksh and ksh and sets KEYTURN_SHELLS=required
 * so CI fails rather than quietly checking fewer shells.
 */
const SHELLS: readonly (readonly [string, ...string[]])[] = [
  ['sh'],
  ['bash'],
  ['bash', '--posix'],
  ['zsh'],
  ['mksh'],
  ['ksh'],
];
// stdin is not a socket: bash sources ~/.bashrc when it looks started by rshd (stdin a socket, no SHLVL).
const SPAWN: SpawnSyncOptions = { env: {}, stdio: ['ignore', 'pipe', 'pipe'] };
const installed = (shell: readonly string[]) =>
  spawnSync(shell[0] as string, [...shell.slice(1), '-c', 'exit 0'], SPAWN).status === 0;
const PRESENT = SHELLS.filter(installed);
const MISSING = SHELLS.filter((shell) => !PRESENT.includes(shell)).map((shell) => shell.join(' '));

describe('the shells the property runs under', () => {
  it('include sh, bash and bash --posix, and every shell when KEYTURN_SHELLS=required', () => {
    if (MISSING.length > 0)
      console.warn(`not installed, so not checked: ${MISSING.join(', ')} (apt-get install -y zsh mksh ksh)`);
    expect(MISSING).not.toContain('sh');
    expect(MISSING).not.toContain('bash');
    if (process.env.KEYTURN_SHELLS === 'required') expect(MISSING).toEqual([]);
  });
});

/** Runs `line` with `shell -c` in an empty directory; stdout, and whether anything was written there. */
function runIn(shell: readonly string[], line: string): { out: string; wrote: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyturn-sh-'));
  try {
    const result = spawnSync(shell[0] as string, [...shell.slice(1), '-c', line], { ...SPAWN, cwd: dir });
    return { out: result.stdout.toString('utf8'), wrote: readdirSync(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(PRESENT.map((shell) => [shell.join(' '), shell] as const))(
  'a real shell (%s) receives each accepted value as exactly one argument',
  (_name, shell) => {
    // printf echoes each argument NUL-terminated.
    const template = "printf '%s\\0' {{a}} {{b}}";

    it('for generated values', () => {
      fc.assert(
        fc.property(value, value, (a, b) => {
          fc.pre(accepted(a) && accepted(b));
          expect(runIn(shell, renderCommand(template, { a, b })).out.split('\0')).toEqual([a, b, '']);
        }),
        { numRuns: 100 },
      );
    });

    it.each([
      ['$(echo PWNED)', '`id`'],
      ["'; echo PWNED; echo '", '&& reboot'],
      ['a\\', "'\\''"],
      ['*', '~root'],
      ["\\'; echo PWNED; echo '", "$'\\''"],
    ])('for %j and %j', (a, b) => {
      expect(runIn(shell, renderCommand(template, { a, b })).out).toBe(`${a}\0${b}\0`);
    });
  },
);

/**
 * Property: in any template config accepts, whatever surrounds a placeholder, each shell treats an
 * accepted value exactly as it treats a harmless word: the output is the same once the word is
 * replaced by the value, and nothing is written. Templates are built from the characters that open
 * shell contexts ($, ${, $((, ((, [[, ~, =, quotes …) so the check meets the contexts config must refuse.
 */
const FRAGMENTS = [
  ...'${}()[]~=:/\\\'"` x0+-#!,@%',
  '$(',
  '${',
  '$((',
  '((',
  '[[ ',
  ' ]]',
  '))',
  ' -eq 1',
  'a[',
  'x=',
  '\\\n',
  '$\\\n',
  '"$(',
  ' #',
  ' ',
  '; ',
];
const fragments = fc.string({ unit: fc.constantFrom(...FRAGMENTS), maxLength: 6 });
/** Values that write a file if any of them ever runs, next to quote breakers. */
const ATTACKS = [
  "\\'; :>PWNED; echo '",
  "'; :>PWNED; echo '",
  '$(:>PWNED)',
  '`:>PWNED`',
  'a[$(:>PWNED)]',
  "\\''$(:>PWNED)'",
  'root',
  'ls',
  '1',
];
const attack = fc.oneof(fc.constantFrom(...ATTACKS), value.filter(accepted));
const MARKER = 'MARKERaaa';

describe.each(PRESENT.map((shell) => [shell.join(' '), shell] as const))(
  'in every template config accepts, a real shell (%s) takes a value like a harmless word',
  (_name, shell) => {
    it('for generated templates and values', () => {
      fc.assert(
        fc.property(fragments, fragments, attack, (before, after, a) => {
          const template = `set -o noglob; printf '%s\\0' ${before}{{a}}${after}`;
          // What config accepts: every placeholder a declared name, and no placement problem.
          fc.pre([...template.matchAll(PLACEHOLDER)].every((m) => m[1] === 'a'));
          fc.pre(placeholderPlacementProblems(template).length === 0);
          const harmless = runIn(shell, renderCommand(template, { a: MARKER }));
          // A template that prints the shell's pid ($$, or $ in arithmetic) differs from run to run whatever the value.
          fc.pre(runIn(shell, renderCommand(template, { a: MARKER })).out === harmless.out);
          const actual = runIn(shell, renderCommand(template, { a }));
          expect(actual.wrote).toEqual([]);
          expect(actual.out).toBe(harmless.out.replaceAll(MARKER, () => a));
        }),
        // Found by this property (zsh): an empty value before = leaves `''=$`, which zsh expanded; and
        // `$a[#` … `]`, a zsh subscript, where a quoted value's $(…) or backticks ran.
        {
          numRuns: 100,
          examples: [
            ['', '=$', ''],
            ['', '~root', ''],
            ['$a[#', ']', '`'],
            ['$a[#', ']', '$(:>PWNED)'],
          ],
        },
      );
    });

    // Templates config accepts because the placeholder is a word of a command, however deeply nested.
    it.each([
      'printf \'%s\\0\' "$(printf %s {{a}})" {{a}}',
      "printf '%s\\0' $(case {{a}} in a) echo x;; esac) {{a}}",
      "printf '%s\\0' 'it''s' # don't {{a}}\nprintf '%s\\0' {{a}}",
      "printf '%s\\0' $'\\t' '$'{{a}} \\${{a}} --unit={{a}} x=~/{{a}}",
    ])('for %j', (template) => {
      expect(placeholderPlacementProblems(template)).toEqual([]);
      const harmless = runIn(shell, renderCommand(template, { a: MARKER }));
      for (const a of ATTACKS) {
        const actual = runIn(shell, renderCommand(template, { a }));
        expect(actual.wrote).toEqual([]);
        expect(actual.out).toBe(harmless.out.replaceAll(MARKER, () => a));
      }
    });
  },
);
