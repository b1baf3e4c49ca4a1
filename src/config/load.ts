import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { renderBoundary } from '../domain/boundary';
import { err, ok, type Result } from '../domain/result';
import { deepFreeze } from './freeze';
import {
  type ConfigError,
  type ConfigProblem,
  DEFAULT_MESSAGE,
  findProtoKeys,
  formatConfigError,
  toProblems,
} from './problems';
import { configSchema } from './schema';
import { toConfig } from './to-config';
import type { Config } from './types';

/*
 * Reading keyturn.yml: which file, the YAML, the schema (./schema), the conversion to Config (./to-config)
 * and the problems said about it (./problems).
 */

/** Thrown at start-up: a process must not run on a config it could not read or validate. */
export class ConfigLoadError extends Error {
  override readonly name = 'ConfigLoadError';
  readonly code: 'CONFIG_INVALID' | 'CONFIG_NOT_FOUND';
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(
    error: ConfigError,
    code: ConfigLoadError['code'] = 'CONFIG_INVALID',
    options?: { cause?: unknown },
  ) {
    super(formatConfigError(error), options);
    this.code = code;
    this.source = error.source;
    this.problems = error.problems;
  }
}

/** Shipped next to package.json; works from src/config (tsx, ts-jest) and from a compiled dist/config alike. */
export const EXAMPLE_CONFIG_PATH = path.resolve(__dirname, '../../keyturn.example.yml');

/** Parses and validates keyturn.yml text. Every problem is reported at once, not just the first. */
export function parseConfig(text: string, source: string): Result<Config, ConfigError> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return err({
      source,
      problems: doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at ? ` at line ${at.line}, column ${at.col}` : '';
        // prettyErrors appends " at line L, column C:" and a source excerpt; keep the first sentence only.
        const what = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: '', message: `YAML syntax error${where}: ${what}` };
      }),
    });
  }

  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (e) {
    // toJS refuses alias "billion laughs" expansions (ReferenceError: excessive alias count).
    return err({
      source,
      problems: [{ path: '', message: `cannot be read as YAML: ${(e as Error).message}` }],
    });
  }

  const protoKeys = findProtoKeys(raw, []);
  const parsed = configSchema.safeParse(raw, { error: () => DEFAULT_MESSAGE });
  if (!parsed.success || protoKeys.length > 0) {
    return err({
      source,
      problems: [...protoKeys, ...(parsed.success ? [] : toProblems(parsed.error.issues, raw))],
    });
  }
  const config = toConfig(parsed.data);
  // Every access role carries one boundary listing each distinct tag set: it must fit a managed policy.
  // The home account's lists its own targets; the grantor template's, deployed in every member account,
  // lists all the member accounts' targets (deploy/grantor.ts).
  const targets = Object.values(config.targets);
  const boundary = [
    targets.filter((t) => t.account === config.aws.accountId),
    targets.filter((t) => t.account !== config.aws.accountId),
  ]
    .map((scope) => renderBoundary(config.aws, scope))
    .find((rendered) => !rendered.ok) ?? { ok: true as const };
  if (!boundary.ok) {
    return err({
      source,
      problems: [
        {
          path: 'targets',
          message: `need an access-role permissions boundary of ${boundary.error.chars} characters, over IAM's ${boundary.error.limit} for a managed policy; use fewer distinct tag sets (targets with the same tags share a statement)`,
        },
      ],
    });
  }
  return ok(deepFreeze(config));
}

/**
 * Reads `KEYTURN_CONFIG` (relative to `cwd`) or `<cwd>/keyturn.yml`; with neither, the shipped example so
 * `npm start` works out of the box in sandbox mode. Throws ConfigLoadError: nothing can run without config.
 */
export function loadConfig(opts: {
  env: Record<string, string | undefined>;
  cwd: string;
  log: (msg: string) => void;
}): Config {
  const configured = opts.env.KEYTURN_CONFIG;
  let file: string;
  if (configured !== undefined && configured !== '') {
    file = path.resolve(opts.cwd, configured);
  } else {
    const local = path.join(opts.cwd, 'keyturn.yml');
    if (isFile(local)) file = local;
    else {
      file = EXAMPLE_CONFIG_PATH;
      opts.log(
        `No keyturn.yml in ${opts.cwd} and KEYTURN_CONFIG is not set; using the shipped example ${file} (sandbox settings)`,
      );
    }
  }

  const source = displayName(file, opts.cwd);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    const why = configured ? ` (KEYTURN_CONFIG=${configured})` : '';
    throw new ConfigLoadError(
      {
        source: file,
        problems: [
          {
            path: '',
            message: missing ? `file not found${why}` : `cannot be read${why}: ${(e as Error).message}`,
          },
        ],
      },
      'CONFIG_NOT_FOUND',
      { cause: e },
    );
  }

  const result = parseConfig(text, source);
  if (!result.ok) throw new ConfigLoadError(result.error);
  return result.value;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `keyturn.yml` reads better than `/srv/app/keyturn.yml` in an error, when the file is under cwd. */
function displayName(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
