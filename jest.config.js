/** @type {import('jest').Config} */
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  // isolatedModules: type-checking is `npm run typecheck`'s job; this keeps the suite fast (FACTS.md).
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  ...extra,
});

module.exports = {
  projects: [project('unit'), project('integration', { testTimeout: 30_000 })],
};
