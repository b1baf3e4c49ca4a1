const { existsSync } = require('node:fs');

/**
 * The browser suite needs Debian's Chromium. `npm test` on a machine without it still passes (the
 * suite is left out), while .ci/run installs Chromium and sets KEYTURN_E2E=required, so CI always
 * runs it and fails loudly if the browser is missing. KEYTURN_E2E=off leaves it out anywhere.
 */
const CHROMIUM = process.env.KEYTURN_CHROMIUM ?? '/usr/bin/chromium';
const e2e =
  process.env.KEYTURN_E2E === 'required' || (process.env.KEYTURN_E2E !== 'off' && existsSync(CHROMIUM));

/**
 * The moto suite (test/integration/moto-*.test.ts) needs `moto_server` on PATH. Same rule as the
 * browser suite: left out, with a note, where it is missing; KEYTURN_MOTO=required (.ci/run) runs it
 * anyway, so a missing moto_server fails the suite; KEYTURN_MOTO=off leaves it out anywhere.
 */
const onPath = (name) =>
  (process.env.PATH ?? '')
    .split(require('node:path').delimiter)
    .some((dir) => dir && existsSync(`${dir}/${name}`));
const moto =
  process.env.KEYTURN_MOTO === 'required' || (process.env.KEYTURN_MOTO !== 'off' && onPath('moto_server'));
if (!moto) {
  process.stderr.write(
    'keyturn: skipping the moto suite (test/integration/moto-*.test.ts): ' +
      (process.env.KEYTURN_MOTO === 'off'
        ? 'KEYTURN_MOTO=off\n'
        : 'moto_server is not on PATH (KEYTURN_MOTO=required makes this an error)\n'),
  );
}

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
    project(
      'integration',
      moto ? {} : { testPathIgnorePatterns: ['/node_modules/', '/test/integration/moto-'] },
    ),
    // Reads what `npm run package` builds; globalSetup runs it (offline, ~10 s) only when a deploy test is selected.
    project('deploy', { globalSetup: '<rootDir>/test/deploy/package-stack.ts' }),
    // The sandbox page in a real browser: one story, played step by step through the page.
    ...(e2e ? [project('e2e')] : []),
  ],
};
