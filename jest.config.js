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
  projects: [project('unit'), project('integration', { testTimeout: 30_000 })],
};
