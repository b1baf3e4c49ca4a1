// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell ${…} and ${{placeholder}} in run lines are literal text under test.
import { placeholderPlacementProblems } from '../../../src/domain/snippet-template';

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
    // = or ~ after text, or the value after them: the word cannot start with either.
    'echo x{{u}}=ls',
    'echo --unit={{u}}',
    'echo ~/{{u}}',
    'echo {{u}}:~',
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
    // zsh subscripts $name[…] (bash and ksh read a plain [ after $a), and runs a quoted value's $(…) there.
    ['echo $a[{{u}}]', /^puts \{\{u\}\} inside a zsh subscript \(\$a\[…\]\)/],
    ['echo x$lines[#{{u}}]', /inside a zsh subscript/],
    ['echo $1[(r){{u}}]', /inside a zsh subscript/],
    ['echo $@[{{u}}]', /inside a zsh subscript/],
    ['echo ~{{u}}', /^puts \{\{u\}\} in a ~ prefix/],
    ['x=~{{u}}', /in a ~ prefix/],
    ['echo $(~{{u}})', /in a ~ prefix/],
    ['echo ={{u}}', /^puts \{\{u\}\} in a word that starts with =/],
    // An empty value leaves the word starting with = or ~, which zsh expands (`''=ls` is /usr/bin/ls).
    [
      'echo {{u}}=ls',
      /^starts a word with \{\{u\}\} followed by =, which zsh expands \(to a command's path\)/,
    ],
    [
      'echo {{u}}~root',
      /^starts a word with \{\{u\}\} followed by ~, which zsh expands \(to a home directory\)/,
    ],
    ['echo {{u}}{{u}}=ls', /^starts a word with \{\{u\}\} followed by =/],
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
