import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const BENCH_DIR = __dirname;
export const ROOT = path.resolve(__dirname, '..');
/** Bundles, task roots and hand-over files; git-ignored. */
export const TMP_DIR = path.join(__dirname, 'tmp');

/**
 * Each measurement runs in its own Node process: peak RSS is then that measurement's alone, the
 * virtual clock's global timers cannot leak into another measurement, and a crash is contained.
 * The child writes its result as JSON to the file named by its first argument; stdout is left to logs.
 */
export async function runChild<T>(
  file: string,
  args: readonly string[] = [],
  opts: { env?: NodeJS.ProcessEnv; label?: string } = {},
): Promise<T> {
  mkdirSync(TMP_DIR, { recursive: true });
  const label = opts.label ?? path.basename(file, '.ts');
  const out = path.join(TMP_DIR, `${label}-${process.pid}-${Date.now()}.json`);
  const child = spawn(process.execPath, ['--import', 'tsx', file, out, ...args], {
    cwd: ROOT,
    // The SDK warns once per process that it will need Node 22; Lambda runs Node 22 anyway.
    env: {
      ...process.env,
      LOG_LEVEL: 'error',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...opts.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${label} exited with ${code}`);
  const result = JSON.parse(readFileSync(out, 'utf8')) as T;
  rmSync(out);
  return result;
}

/** The child side: run `measure` with the arguments after the output file, write its result there, exit. */
export function childMain<T>(measure: (args: string[]) => Promise<T>): void {
  const [out, ...args] = process.argv.slice(2);
  if (!out) throw new Error('usage: node --import tsx <bench file> <result.json> [args…]');
  measure(args).then(
    (result) => {
      writeFileSync(out, JSON.stringify(result));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
