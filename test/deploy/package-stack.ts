import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * Jest globalSetup for the deploy project: `npm run package` once, so `npm test` is self-contained
 * on a fresh clone and the template under test is always built from the current code. Pinned to
 * the shipped example config (a developer's own keyturn.yml would change the expected template).
 * Offline and ~10 s; runs only when a deploy test is selected.
 */
export default function packageStack(): void {
  const root = path.resolve(__dirname, '../..');
  const run = spawnSync(process.execPath, [path.join(root, 'deploy/package.js')], {
    cwd: root,
    env: { ...process.env, KEYTURN_CONFIG: 'keyturn.example.yml' },
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    throw new Error(`npm run package failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  const sizes = run.stdout.slice(run.stdout.indexOf('function bundles'));
  process.stdout.write(`\n[deploy] packaged .serverless/ offline; ${sizes}`);
}
