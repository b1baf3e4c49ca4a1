const { existsSync } = require('node:fs');

/**
 * The browser suite needs Debian's Chromium. `npm test` on a machine without it still passes (the
 * suite is left out), while .ci/run installs Chromium and sets KEYTURN_E2E=required, so CI always
 * runs it and fails loudly if the browser is missing. KEYTURN_E2E=off leaves it out anywhere.
 */
const CHROMIUM = process.env.KEYTURN_CHROMIUM ?? '/usr/bin/chromium';
const e2e =
  process.env.KEYTURN_E2E === 'required' || (process.env.KEYTURN_E2E !== 'off' && existsSync(CHROMIUM));

/** @type {import('jest').Config} */
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  // tsconfig's isolatedModules makes ts-jest transpile only: type-checking is `npm run typecheck`'s
  // job, and the suite runs ~5x faster (FACTS.md).
  transform: { '^.+\\.ts$': 'ts-jest' },
  ...extra,
});

module.exports = {
  // A global option: Jest ignores testTimeout inside a project. Unit tests finish in milliseconds;
  // this bounds the integration, deploy and browser tests that start servers and bundles.
  testTimeout: 30_000,
  projects: [
    project('unit'),
    project('integration'),
    // Reads what `npm run package` builds; globalSetup runs it (offline, ~10 s) only when a deploy test is selected.
    project('deploy', { globalSetup: '<rootDir>/test/deploy/package-stack.ts' }),
    // The sandbox page in a real browser: one story, played step by step through the page.
    ...(e2e ? [project('e2e')] : []),
  ],
};
