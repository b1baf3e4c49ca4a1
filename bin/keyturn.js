#!/usr/bin/env node
// Runs the TypeScript CLI in place: tsx (a runtime dependency) compiles on load, so `npx keyturn`
// works straight after `npm install` with no build step.
require('tsx/cjs');
const { runCli } = require('../src/main/cli.ts');

// `digest` reads storage, so runCli may answer with a promise of the exit code.
Promise.resolve(
  runCli(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
  }),
).then((code) => {
  process.exitCode = code;
});
