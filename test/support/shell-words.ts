/**
 * A small POSIX shell lexer (XCU 2.3 token recognition, 2.2 quoting), written independently of
 * src/domain/snippet.ts, so tests can compare the *structure* of two command lines: the words the
 * shell would see after quote removal, the operators between them, and where anything unquoted would
 * be expanded ($, `, globs, ~, braces) or start a comment. Here-documents and arithmetic are out of
 * scope: config refuses placeholders near them.
 */
export type ShellToken =
  | { type: 'word'; value: string; expansions: string[] }
  | { type: 'op'; value: string }
  | { type: 'comment' };

const OPERATORS = ['&&', '||', ';;', '<<', '>>', '<&', '>&', '<>', '>|', ';', '&', '|', '(', ')', '<', '>'];

export function shellWords(line: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let word: { value: string; expansions: string[] } | undefined;
  const extend = () => {
    word ??= { value: '', expansions: [] };
    return word;
  };
  const end = () => {
    if (word) tokens.push({ type: 'word', ...word });
    word = undefined;
  };

  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (ch === ' ' || ch === '\t') {
      end();
      i++;
      continue;
    }
    if (ch === '\n') {
      end();
      tokens.push({ type: 'op', value: '\n' });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => line.startsWith(o, i));
    if (op) {
      end();
      tokens.push({ type: 'op', value: op });
      i += op.length;
      continue;
    }
    if (ch === '#' && word === undefined) {
      tokens.push({ type: 'comment' });
      while (i < line.length && line[i] !== '\n') i++;
      continue;
    }
    const w = extend();
    if (ch === '\\') {
      if (line[i + 1] === '\n') i += 2;
      else {
        w.value += line[i + 1] ?? '';
        i += 2;
      }
      continue;
    }
    if (ch === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error('unterminated single quote');
      w.value += line.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('unterminated double quote');
        const c = line[i] as string;
        if (c === '"') break;
        if (c === '\\' && '$`"\\\n'.includes(line[i + 1] ?? '')) {
          if (line[i + 1] !== '\n') w.value += line[i + 1];
          i += 2;
          continue;
        }
        if (c === '$' || c === '`') w.expansions.push(`"${c}`);
        w.value += c;
        i++;
      }
      i++;
      continue;
    }
    if (ch === '$' || ch === '`') w.expansions.push(ch);
    else if (ch === '*' || ch === '?' || ch === '[') w.expansions.push('glob');
    else if (ch === '{' || ch === '}') w.expansions.push('brace');
    else if (ch === '~' && w.value === '') w.expansions.push('tilde');
    w.value += ch;
    i++;
  }
  end();
  return tokens;
}
