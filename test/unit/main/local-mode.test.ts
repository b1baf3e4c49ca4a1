import { localModeProblems } from '../../../src/main/local-mode';
import { testConfig } from '../../support/fakes';

const real = () => {
  const config = testConfig();
  return { ...config, slack: { ...config.slack, requestsChannel: 'C07APPROVE', auditChannel: 'C07AUDITS1' } };
};

describe('localModeProblems', () => {
  it('accepts a config with real channel ids and at least one person', () => {
    expect(localModeProblems(real())).toEqual([]);
  });

  it('names each example channel placeholder and says where to find the real id', () => {
    const problems = localModeProblems(testConfig());
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^slack\.requestsChannel is C0APPROVALS, the example's placeholder/);
    expect(problems[1]).toMatch(/^slack\.auditChannel is C0AUDIT/);
    expect(problems.join('\n')).toContain('copy channel ID');
  });

  it('refuses an empty people mapping', () => {
    expect(localModeProblems({ ...real(), people: {} })).toEqual([
      expect.stringMatching(/^people is empty: map at least one Slack user id/),
    ]);
  });

  it('reports every problem at once', () => {
    expect(localModeProblems({ ...testConfig(), people: {} })).toHaveLength(3);
  });
});
