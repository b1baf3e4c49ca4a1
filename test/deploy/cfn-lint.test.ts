import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventBusPolicy, grantorTemplate } from '../../deploy/grantor';
import type { Config } from '../../src/config/types';
import { parseConfig } from '../../src/config/load';
import { OUT_DIR } from './stack-files';

// cfn-lint (AWS's CloudFormation linter, a Python tool) on the packaged templates. It is not an npm
// package: where it is not installed the check is reported as not run, unless KEYTURN_CFN_LINT=required
// (then a missing cfn-lint fails, like KEYTURN_E2E for the browser suite).

const TEMPLATE = path.join(OUT_DIR, 'cloudformation-template-update-stack.json');
const FORWARDER = path.join(OUT_DIR, 'keyturn-forwarder.json');

function cfnLint(...args: string[]) {
  return spawnSync('cfn-lint', args, { encoding: 'utf8' });
}

const installed = !cfnLint('--version').error;

/** An organisation's config (the shipped example declares no member account). */
function organisation(): Config {
  const parsed = parseConfig(
    `
aws:
  accountId: "123456789012"
  region: ap-northeast-1
  regions: [ap-northeast-1, us-west-2]
  accounts:
    - { accountId: "444455556666", alias: factory, regions: [ap-northeast-3, eu-central-1] }
    - { accountId: "555566667777", regions: [eu-central-1] }
slack: { requestsChannel: C0APPROVALS, auditChannel: C0AUDIT }
digest: { at: "07:30", timezone: Europe/Berlin }
people:
  U0ALICE: { iamUser: alice }
  U0CAROL: { identityCenter: carol@example.com }
  U0DAVE: { iamRole: oncall, sessionName: dave }
targets:
  osaka-pis: { account: factory, region: ap-northeast-3, tags: { Fleet: osaka-pi }, defaultDuration: 30m, maxDuration: 1h, approvers: [U0CAROL], runAs: pi-ops }
  staging-web: { account: "555566667777", region: eu-central-1, tags: { Fleet: staging-web }, defaultDuration: 30m, maxDuration: 1h, approvers: [U0CAROL], documents: [shell, port-forward] }
snippets:
  uptime: { run: uptime, targets: [osaka-pis] }
`,
    'organisation.yml',
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

function written(name: string, template: object): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'keyturn-cfn-lint-')), name);
  writeFileSync(file, JSON.stringify(template));
  return file;
}

const organisationGrantor = () =>
  written(
    'keyturn-grantor.json',
    grantorTemplate(organisation(), { functionsRoleName: 'keyturn-prod-ap-northeast-1-lambdaRole' }),
  );

/** What an organisation adds to the main stack: the default bus's policy for the member accounts. */
const organisationBusPolicy = () =>
  written('bus-policy.json', {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: eventBusPolicy(organisation()),
  });

describe('cfn-lint', () => {
  it.each([
    ['the packaged main template', () => TEMPLATE],
    ['the packaged forwarder template', () => FORWARDER],
    ["an organisation's grantor template", organisationGrantor],
    ["an organisation's event bus policy in the main stack", organisationBusPolicy],
  ])('reports no error and no warning on %s', (_what, file) => {
    if (!installed) {
      expect(process.env.KEYTURN_CFN_LINT).not.toBe('required');
      console.info('cfn-lint is not on PATH: the packaged templates were not linted');
      return;
    }
    const run = cfnLint('--format', 'parseable', '--', file());
    // Exit 0: nothing at warning level or above (2 = errors, 4 = warnings). Findings are in the message.
    expect({ status: run.status, findings: run.stdout.trim().split('\n').filter(Boolean) }).toEqual({
      status: 0,
      findings: [],
    });
  });
});
