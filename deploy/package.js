#!/usr/bin/env node

/**
 * `npm run package [-- --stage prod]`: `osls package`, then each function's zip size.
 * Offline by construction: osls package needs no AWS credentials, serverless.yml uses no variable
 * that asks AWS (${aws:…}, ${ssm:…}, ${cf:…}), and serverless-esbuild installs nothing (every
 * module is bundled; see `exclude` in serverless.yml). Checked in a network namespace with no
 * interfaces and no credentials.
 */
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const serviceDir = path.resolve(__dirname, '..');
const osls = require.resolve('osls/bin/serverless.js', { paths: [serviceDir] });

const run = spawnSync(process.execPath, [osls, 'package', ...process.argv.slice(2)], {
  cwd: serviceDir,
  stdio: 'inherit',
});
if (run.status !== 0) process.exit(run.status ?? 1);

const outDir = path.join(serviceDir, '.serverless');
const zips = readdirSync(outDir)
  .filter((f) => f.endsWith('.zip'))
  .sort();
console.log('\nfunction bundles (zipped):');
for (const zip of zips) {
  const bytes = statSync(path.join(outDir, zip)).size;
  console.log(`  ${zip.padEnd(24)} ${(bytes / 1024).toFixed(0).padStart(6)} KiB`);
}
