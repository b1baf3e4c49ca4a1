import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  GetAccountSummaryCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { decideOnGrant } from '../../src/app/decide';
import { requestAccess } from '../../src/app/request-access';
import { startKeyturn } from '../../src/main/server';
import { silentLogger, testConfig } from '../support/fakes';

/** A Slack Web API that accepts every call (local mode posts the card, the DMs and the audit lines). */
async function okSlack(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ok: true,
          user_id: 'UBOT',
          bot_id: 'BBOT',
          channel: 'C0APPROVALS',
          ts: '1.0001',
          users: [],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`, server };
}

const commandName = (c: { args: unknown[] }) =>
  (c.args[0] as { constructor: { name: string } }).constructor.name;

describe('local mode (real IAM adapter, SDK mocked)', () => {
  it("reads the account's IAM quotas at start-up, so the first approval makes at most 3 IAM calls before its readiness check (issue 13)", async () => {
    const iam = mockClient(IAMClient);
    const ssm = mockClient(SSMClient);
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AttachedPoliciesPerRoleQuota: 10 } });
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    iam.on(CreatePolicyCommand).resolves({
      Policy: { Arn: 'arn:aws:iam::123456789012:policy/keyturn/keyturn-g1', PolicyName: 'keyturn-g1' },
    });
    iam.on(AttachRolePolicyCommand).resolves({});
    iam
      .on(SimulatePrincipalPolicyCommand)
      .resolves({ EvaluationResults: [{ EvalActionName: 'ssm:StartSession', EvalDecision: 'allowed' }] });
    ssm.resolves({});
    const slack = await okSlack();
    const base = testConfig();
    // Local mode refuses the example's placeholder channels.
    const config = {
      ...base,
      slack: { ...base.slack, requestsChannel: 'C0LOCALREQ', auditChannel: 'C0LOCALAUDIT' },
    };
    const k = await startKeyturn({
      env: {
        SLACK_BOT_TOKEN: 'xoxb-local',
        SLACK_SIGNING_SECRET: 'local-secret',
        SLACK_API_URL: slack.url,
        AWS_REGION: 'ap-northeast-1',
      },
      port: 0,
      config,
      logger: silentLogger,
      sweepEveryMs: 0,
    }).catch(async (error: unknown) => {
      await new Promise((resolve) => slack.server.close(resolve));
      throw error;
    });
    try {
      expect(k.mode).toBe('local');
      // Started: the quotas are read now, before anyone asks for access.
      for (let i = 0; i < 100 && iam.calls().length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(iam.calls().map(commandName)).toEqual(['GetAccountSummaryCommand']);
      const atStart = iam.calls().length;

      const asked = await requestAccess(k.deps, { user: 'U0ALICE', text: 'prod-raspi 1h fix it' });
      expect(asked.outcome).toBe('requested');
      const grantId = (asked as { grant: { id: string } }).grant.id;
      await decideOnGrant(k.deps, { grantId, clicker: 'U0CAROL', action: 'approve' });
      await k.queue.idle();

      const names = iam.calls().slice(atStart).map(commandName);
      expect(names).toContain('SimulatePrincipalPolicyCommand');
      expect(names.slice(0, names.indexOf('SimulatePrincipalPolicyCommand'))).toEqual([
        'ListAttachedRolePoliciesCommand',
        'CreatePolicyCommand',
        'AttachRolePolicyCommand',
      ]);
      expect((await k.deps.grants.get(grantId))?.status).toBe('active');
    } finally {
      await k.close();
      await new Promise((resolve) => slack.server.close(resolve));
      iam.restore();
      ssm.restore();
    }
  });
});
