/** Architecture rules from DESIGN.md: dependencies point inward. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain does no I/O: no adapters, no SDKs, no Slack, no storage library.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: {
        path: [
          '^src/(adapters|app|main|config)',
          '@aws-sdk',
          '@slack',
          'dynamodb-toolbox',
          '^(fs|http|https|net|child_process)$',
        ],
      },
    },
    {
      name: 'app-uses-ports',
      comment: 'Use cases talk to the world through ports, never through adapters or SDKs.',
      severity: 'error',
      from: { path: '^src/app' },
      to: { path: ['^src/(adapters|main)', '@aws-sdk', '@slack', 'dynamodb-toolbox'] },
    },
    {
      name: 'only-composition-roots-build-clients',
      comment: 'Handlers wire through src/main; they do not reach into adapters directly.',
      severity: 'error',
      from: { path: '^handlers' },
      to: { path: '^src/adapters' },
    },
    {
      name: 'no-agpl-in-runtime',
      comment: '@cloud-copilot/iam-simulate is AGPL-3.0: tests and sandbox only (FACTS.md).',
      severity: 'error',
      from: { path: '^(src|handlers)', pathNot: '^src/adapters/sandbox' },
      to: { path: '@cloud-copilot/iam-simulate' },
    },
    {
      name: 'lambda-bundles-no-dev-tools',
      comment:
        'Lambda bundles carry no devDependencies: no policy evaluator (AGPL), no dynalite, no sandbox (test/deploy/bundle.test.ts).',
      severity: 'error',
      from: { path: '^(handlers/|src/main/lambda\\.ts$)' },
      to: {
        path: [
          '^src/adapters/sandbox',
          '^src/adapters/dynamodb/local',
          'dynalite',
          '@cloud-copilot/iam-simulate',
        ],
        reachable: true,
      },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: 'node_modules' },
  },
};
