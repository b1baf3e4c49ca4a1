import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { OUT_DIR } from './stack-files';

// cfn-lint (AWS's CloudFormation linter, a Python tool) on the packaged template. It is not an npm
// package: where it is not installed the check is reported as not run, unless KEYTURN_CFN_LINT=required
// (then a missing cfn-lint fails, like KEYTURN_E2E for the browser suite).

const TEMPLATE = path.join(OUT_DIR, 'cloudformation-template-update-stack.json');

function cfnLint(...args: string[]) {
  return spawnSync('cfn-lint', args, { encoding: 'utf8' });
}

const installed = !cfnLint('--version').error;

describe('cfn-lint on the packaged template', () => {
  it('reports no error and no warning', () => {
    if (!installed) {
      expect(process.env.KEYTURN_CFN_LINT).not.toBe('required');
      console.info('cfn-lint is not on PATH: the packaged template was not linted');
      return;
    }
    const run = cfnLint('--format', 'parseable', '--', TEMPLATE);
    // Exit 0: nothing at warning level or above (2 = errors, 4 = warnings). Findings are in the message.
    expect({ status: run.status, findings: run.stdout.trim().split('\n').filter(Boolean) }).toEqual({
      status: 0,
      findings: [],
    });
  });
});
