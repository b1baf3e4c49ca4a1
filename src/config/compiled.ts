import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deepFreeze } from './freeze';
import type { Config } from './types';

/**
 * keyturn.yml as plain data, for the Lambda functions. `npm run package` validates the YAML with the
 * full loader (src/config/load.ts: yaml + zod, errors naming the key) and writes the result here;
 * a cold start then only parses JSON, and the bundles carry neither the YAML parser nor zod.
 * Local mode, the sandbox and the CLI keep reading keyturn.yml through the loader.
 */
export const COMPILED_CONFIG_ENV = 'KEYTURN_CONFIG_JSON';
const FORMAT = 'keyturn-config/1';

export function compileConfig(config: Config, source: string): string {
  return `${JSON.stringify({ format: FORMAT, source, config }, null, 2)}\n`;
}

/** Reads `KEYTURN_CONFIG_JSON` (relative to `cwd`). Throws, naming the file and what to do: nothing runs without config. */
export function readCompiledConfig(opts: { env: Record<string, string | undefined>; cwd: string }): Config {
  const name = opts.env[COMPILED_CONFIG_ENV];
  if (!name)
    throw new Error(
      `environment variable ${COMPILED_CONFIG_ENV} is not set: \`npm run package\` writes the validated config and sets it`,
    );
  let parsed: { format?: unknown; config?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path.resolve(opts.cwd, name), 'utf8'));
  } catch (error) {
    throw new Error(`${COMPILED_CONFIG_ENV}=${name} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (parsed?.format !== FORMAT || typeof parsed.config !== 'object' || parsed.config === null)
    throw new Error(
      `${name} was not written by this version's \`npm run package\` (${FORMAT}): package again`,
    );
  return deepFreeze(parsed.config as Config);
}
