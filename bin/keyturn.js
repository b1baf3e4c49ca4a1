#!/usr/bin/env node
// Runs the TypeScript CLI in place: tsx (a runtime dependency) compiles on load, so `npx keyturn`
// works straight after `npm install` with no build step.
require('tsx/cjs');
require('../src/main/cli.ts').runFromProcess();
