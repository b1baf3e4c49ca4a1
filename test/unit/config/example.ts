import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { EXAMPLE_CONFIG_PATH, parseConfig } from '../../../src/config/load';
import { type ConfigError, formatConfigError } from '../../../src/config/problems';
import type { Config } from '../../../src/config/types';

/* The shipped example and small changes to it: what the config tests load or expect refused. */

export const EXAMPLE_TEXT = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8');

type Path = readonly (string | number)[];
/** A change to the example config: set the value at `path`, or delete the key when the value is undefined. */
export type Change = readonly [Path, unknown];

export function exampleWith(...changes: Change[]): string {
  const doc: unknown = parse(EXAMPLE_TEXT);
  for (const [at, value] of changes) {
    let node = doc as Record<string | number, unknown>;
    for (const segment of at.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
    const last = at[at.length - 1]!;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return stringify(doc);
}

/** The example with Keyturn's own account only: no member account, nor its target and its sandbox nodes. */
export const ONE_ACCOUNT: readonly Change[] = [
  [['aws', 'accounts'], undefined],
  [['targets', 'factory-pi'], undefined],
  [
    ['sandbox', 'fleet'],
    (parse(EXAMPLE_TEXT) as { sandbox: { fleet: { account?: string }[] } }).sandbox.fleet.filter(
      (n) => n.account === undefined,
    ),
  ],
];

export function problemsOf(text: string): ConfigError {
  const result = parseConfig(text, 'keyturn.yml');
  if (result.ok) throw new Error('expected the config to be rejected, but it loaded');
  return result.error;
}

export function configOf(text: string): Config {
  const result = parseConfig(text, 'keyturn.yml');
  if (!result.ok) throw new Error(`expected the config to load:\n${formatConfigError(result.error)}`);
  return result.value;
}
