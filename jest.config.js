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
  projects: [
    project('unit'),
    project('integration', { testTimeout: 30_000 }),
    // Reads what `npm run package` builds; globalSetup runs it (offline, ~10 s) only when a deploy test is selected.
    project('deploy', { testTimeout: 30_000, globalSetup: '<rootDir>/test/deploy/package-stack.ts' }),
  ],
};
