import { sandboxEnvProblems } from '../../../src/main/sandbox-env';

describe('sandboxEnvProblems', () => {
  it('accepts an environment that names no table and no AWS endpoint', () => {
    expect(sandboxEnvProblems({ PORT: '3000', AWS_REGION: 'eu-west-1', AWS_PROFILE: 'prod' })).toEqual([]);
  });

  it('refuses KEYTURN_TABLE: the sandbox would write simulated grants into that table', () => {
    const problems = sandboxEnvProblems({ KEYTURN_TABLE: 'keyturn-prod' });
    expect(problems).toEqual([expect.stringMatching(/^KEYTURN_TABLE is set \(keyturn-prod\)/)]);
    expect(problems[0]).toContain('unset KEYTURN_TABLE');
    expect(problems[0]).toContain('SLACK_BOT_TOKEN');
  });

  it('refuses every AWS_ENDPOINT_URL variable, naming each', () => {
    const problems = sandboxEnvProblems({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:5000',
    });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/AWS_ENDPOINT_URL is set/);
    expect(problems.join('\n')).toMatch(/AWS_ENDPOINT_URL_DYNAMODB is set/);
    expect(problems.join('\n')).toMatch(/AWS_ENDPOINT_URL_IAM is set/);
    expect(problems[0]).toContain('unset');
  });

  it('an empty value counts as unset, as the AWS SDK reads it', () => {
    expect(sandboxEnvProblems({ KEYTURN_TABLE: '', AWS_ENDPOINT_URL_SSM: '' })).toEqual([]);
  });
});
