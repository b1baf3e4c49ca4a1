// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders are literal ${…} text.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import {
  commandEventsPattern,
  eventBusPolicy,
  forwarderTemplate,
  grantorTemplate,
  organisationTemplates,
  sessionEventsPattern,
  subPseudoParameters,
} from '../../deploy/grantor';
import {
  accessRoleStacks,
  PEOPLE_PER_STACK,
  type PolicyStatement,
  grantingStatements,
  memberScope,
  roleStatements,
} from '../../deploy/stack';
import { grantPolicy } from '../../src/app/grant-policy';
import { parseConfig } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { trustPolicy } from '../../src/domain/person';
import { resolveIn } from './intrinsics';
import { analysisResult, type Decision } from '../support/iam-simulation';

// The organisation side of the deploy (deploy/grantor.ts): what keyturn.yml's member accounts make of
// the main stack and of the grantor and forwarder templates, and what IAM makes of them (an offline
// policy evaluator): the grantor role in a member account admits Keyturn's functions' role and nothing
// else, and a grant rendered for one account allows nothing in another.

const HOME = '123456789012';
const FACTORY = '444455556666';
const STAGING = '555566667777';
const OTHER = '999988887777';
const FUNCTIONS_ROLE = `arn:aws:iam::${HOME}:role/keyturn-prod-ap-northeast-1-lambdaRole`;

function config(yaml: string): Config {
  const parsed = parseConfig(yaml, 'test.yml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

const target = (where: string, tags: string, extra = '') =>
  `{ ${where} tags: ${tags}, defaultDuration: 30m, maxDuration: 1h, approvers: [U0CAROL]${extra} }`;

const people = (n: number) =>
  Array.from({ length: n }, (_, i) => `  U0P${String(i).padStart(4, '0')}: { iamUser: person${i} }`).join(
    '\n',
  );

/** Two member accounts, two regions each side, targets and snippets everywhere. */
const orgYaml = (
  peopleYaml = '  U0ALICE: { iamUser: alice }\n  U0CAROL: { identityCenter: carol@example.com }',
) => `
aws:
  accountId: "${HOME}"
  region: ap-northeast-1
  regions: [ap-northeast-1, us-west-2]
  accounts:
    - { accountId: "${FACTORY}", alias: factory, regions: [ap-northeast-3, eu-central-1] }
    - { accountId: "${STAGING}", alias: staging, regions: [eu-central-1], grantorRole: "arn:aws:iam::${STAGING}:role/ops/keyturn-grantor" }
slack: { requestsChannel: C0APPROVALS, auditChannel: C0AUDIT }
digest: { at: "07:30", timezone: Europe/Berlin }
people:
${peopleYaml}
targets:
  home-web: ${target('', '{ Fleet: web }', ', runAs: deploy')}
  home-west: ${target('region: us-west-2,', '{ Fleet: west }')}
  osaka-pis: ${target('account: factory, region: ap-northeast-3,', '{ Fleet: osaka-pi }', ', runAs: pi-ops')}
  frankfurt-pis: ${target('account: factory, region: eu-central-1,', '{ Fleet: frankfurt-pi }')}
  staging-web: ${target(`account: "${STAGING}",`, '{ Fleet: staging-web, Env: staging }')}
snippets:
  uptime: { run: uptime, targets: [home-west, osaka-pis] }
`;

const org = config(orgYaml());
const single = config(`
aws: { accountId: "${HOME}", region: ap-northeast-1 }
slack: { requestsChannel: C0APPROVALS, auditChannel: C0AUDIT }
digest: { at: "07:30", timezone: Europe/Berlin }
people:
  U0ALICE: { iamUser: alice }
targets:
  web: ${target('', '{ Fleet: web }')}
`);
const PARAMETERS = { slackBotToken: '/k/bot', slackSigningSecret: '/k/signing' };
const bySid = (statements: PolicyStatement[], sid: string) => statements.find((s) => s.Sid === sid);
const subs = (...arns: string[]) => arns.map((arn) => ({ 'Fn::Sub': arn }));

describe("the functions' role in an organisation", () => {
  const statements = roleStatements(org, PARAMETERS);

  it('may assume exactly the declared grantor roles, and none without member accounts', () => {
    expect(bySid(statements, 'AssumeGrantorRoles')).toEqual({
      Sid: 'AssumeGrantorRoles',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: [
        `arn:aws:iam::${FACTORY}:role/keyturn-grantor`,
        `arn:aws:iam::${STAGING}:role/ops/keyturn-grantor`,
      ],
    });
    expect(roleStatements(single, PARAMETERS).flatMap((s) => s.Action)).not.toContain('sts:AssumeRole');
  });

  it("terminates sessions in each of the home account's regions, not only the stack's", () => {
    expect(bySid(statements, 'TerminateSessions')?.Resource).toEqual(
      subs(
        'arn:${AWS::Partition}:ssm:ap-northeast-1:${AWS::AccountId}:session/*',
        'arn:${AWS::Partition}:ssm:us-west-2:${AWS::AccountId}:session/*',
      ),
    );
  });

  it("runs snippets only on the home account's snippet targets, in their own region", () => {
    const sendCommand = statements.filter((s) => s.Action.includes('ssm:SendCommand'));
    expect(sendCommand.map((s) => [s.Sid, s.Resource, s.Condition])).toEqual([
      [
        'RunCommandDocument',
        subs('arn:${AWS::Partition}:ssm:us-west-2:*:document/AWS-RunShellScript'),
        undefined,
      ],
      [
        'RunCommandOnTarget1HomeWest',
        subs(
          'arn:${AWS::Partition}:ec2:us-west-2:${AWS::AccountId}:instance/*',
          'arn:${AWS::Partition}:ssm:us-west-2:${AWS::AccountId}:managed-instance/*',
        ),
        { StringEquals: { 'ssm:resourceTag/Fleet': 'west' } },
      ],
    ]);
  });

  it("tags Run As only with the home account's targets' users", () => {
    expect(bySid(statements, 'TagRunAsOnAccessRoles')?.Condition?.StringEquals).toEqual({
      'aws:RequestTag/SSMSessionRunAs': ['deploy'],
    });
  });

  it("gives the home access roles a boundary of the home account's targets, each in its region", () => {
    const boundary = accessRoleStacks(org).main.KeyturnAccessBoundary!.Properties.PolicyDocument as {
      Statement: { Sid: string; Resource: string | string[]; Condition?: { StringEquals?: object } }[];
    };
    const nodes = boundary.Statement.filter((s) => s.Sid.startsWith('StartSessionOnTarget'));
    expect(nodes.map((s) => [s.Resource, s.Condition?.StringEquals])).toEqual([
      [
        [
          `arn:aws:ec2:ap-northeast-1:${HOME}:instance/*`,
          `arn:aws:ssm:ap-northeast-1:${HOME}:managed-instance/*`,
        ],
        { 'ssm:resourceTag/Fleet': 'web' },
      ],
      [
        [`arn:aws:ec2:us-west-2:${HOME}:instance/*`, `arn:aws:ssm:us-west-2:${HOME}:managed-instance/*`],
        { 'ssm:resourceTag/Fleet': 'west' },
      ],
    ]);
    expect(boundary.Statement.find((s) => s.Sid === 'StartSessionWithPermittedDocuments')?.Resource).toEqual([
      'arn:aws:ssm:ap-northeast-1:*:document/SSM-SessionManagerRunShell',
      'arn:aws:ssm:us-west-2:*:document/SSM-SessionManagerRunShell',
    ]);
  });
});

describe('an organisation whose home account has no targets', () => {
  const membersOnly = config(
    orgYaml()
      .replace(/ {2}home-web: .*\n {2}home-west: .*\n/, '')
      .replace('[home-west, osaka-pis]', '[osaka-pis]'),
  );

  it('gives the home access roles a boundary without node or document statements, and no empty Resource', () => {
    expect(Object.keys(membersOnly.targets)).toEqual(['osaka-pis', 'frankfurt-pis', 'staging-web']);
    const boundary = accessRoleStacks(membersOnly).main.KeyturnAccessBoundary!.Properties.PolicyDocument as {
      Statement: { Sid: string; Resource: unknown }[];
    };
    expect(boundary.Statement.map((s) => s.Sid)).toEqual([
      'ManageOwnSessions',
      'OpenSessionDataChannels',
      'DiscoverNodesAndSessions',
    ]);
    const statements = roleStatements(membersOnly, PARAMETERS);
    expect(statements.flatMap((s) => s.Action)).not.toContain('ssm:SendCommand');
    expect(statements.some((s) => s.Sid?.startsWith('TagRunAs'))).toBe(false);
  });
});

describe('the home bus and its rules', () => {
  it('admit PutEvents from the declared member accounts only, and only Session Manager and Run Command events', () => {
    expect(eventBusPolicy(single)).toEqual({});
    const policy = eventBusPolicy(org).KeyturnMemberAccountEvents!;
    expect(policy.Type).toBe('AWS::Events::EventBusPolicy');
    expect(policy.Properties).toEqual({
      EventBusName: 'default',
      StatementId: 'keyturn-member-accounts',
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam::${FACTORY}:root`, `arn:aws:iam::${STAGING}:root`] },
        Action: 'events:PutEvents',
        Resource: {
          'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
        },
        Condition: {
          'ForAllValues:StringEquals': {
            'events:source': ['aws.ssm'],
            'events:detail-type': [
              'AWS API Call via CloudTrail',
              'EC2 Command Invocation Status-change Notification',
            ],
          },
        },
      },
    });
  });

  it("match the served accounts' events: forwarded events keep the account they happened in", () => {
    expect(sessionEventsPattern(org).account).toEqual([HOME, FACTORY, STAGING]);
    expect(commandEventsPattern(org).account).toEqual([HOME, FACTORY, STAGING]);
    expect(sessionEventsPattern(single).account).toEqual([HOME]);
  });
});

describe('the grantor template', () => {
  const template = grantorTemplate(org, { functionsRoleName: 'keyturn-prod-ap-northeast-1-lambdaRole' });
  const grantor = template.Resources.KeyturnGrantorRole!;
  const policy = (grantor.Properties.Policies as { PolicyDocument: { Statement: PolicyStatement[] } }[])[0]!
    .PolicyDocument.Statement;

  it('has the same granting statements as the functions role, for the member accounts’ targets and regions', () => {
    expect(policy).toEqual(grantingStatements(org, memberScope(org)));
    expect(bySid(policy, 'TerminateSessions')?.Resource).toEqual(
      subs(
        'arn:${AWS::Partition}:ssm:ap-northeast-3:${AWS::AccountId}:session/*',
        'arn:${AWS::Partition}:ssm:eu-central-1:${AWS::AccountId}:session/*',
      ),
    );
    expect(
      policy.filter((s) => s.Condition?.StringEquals?.['ssm:resourceTag/Fleet']).map((s) => s.Sid),
    ).toEqual(['RunCommandOnTarget1OsakaPis']);
    expect(bySid(policy, 'TagRunAsOnAccessRoles')?.Condition?.StringEquals).toEqual({
      'aws:RequestTag/SSMSessionRunAs': ['pi-ops'],
    });
    // No person of the home account is named: direct opt-ins live there, and nothing else may be.
    expect(JSON.stringify(policy)).not.toMatch(/\d{12}/);
    expect(policy.flatMap((s) => s.Action)).not.toContain('sts:AssumeRole');
  });

  it('trusts exactly the functions role, defaulted to the packaged stage’s', () => {
    expect(grantor.Properties.RoleName).toBe('keyturn-grantor');
    expect(grantor.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OnlyKeyturnFunctions',
          Effect: 'Allow',
          Principal: { AWS: { Ref: 'KeyturnFunctionsRoleArn' } },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    expect(template.Parameters?.KeyturnFunctionsRoleArn?.Default).toBe(FUNCTIONS_ROLE);
    expect(grantorTemplate(org).Parameters?.KeyturnFunctionsRoleArn?.Default).toBeUndefined();
    expect(template.Parameters?.KeyturnEventBusArn?.Default).toBe(
      `arn:aws:events:ap-northeast-1:${HOME}:event-bus/default`,
    );
  });

  it('creates the access roles with the home account’s names, path and trust, under the boundary', () => {
    const roles = Object.entries(template.Resources).filter(([id]) => id.startsWith('AccessRole'));
    expect(
      roles.map(([, r]) => [r.Properties.RoleName, r.Properties.Path, r.Properties.PermissionsBoundary]),
    ).toEqual([
      ['keyturn-u0alice', '/keyturn/people/', { Ref: 'KeyturnAccessBoundary' }],
      ['keyturn-u0carol', '/keyturn/people/', { Ref: 'KeyturnAccessBoundary' }],
    ]);
    const home = { partition: 'aws' as const, accountId: HOME };
    expect(roles[0]![1].Properties.AssumeRolePolicyDocument).toEqual(
      trustPolicy(home, { kind: 'iam-user', name: 'alice', path: '/' }),
    );
    expect(roles[1]![1].Properties.AssumeRolePolicyDocument).toEqual(
      trustPolicy(home, { kind: 'identity-center', userName: 'carol@example.com' }),
    );
  });

  it("bounds them by the member accounts' targets, in each account as its own (AWS::AccountId)", () => {
    const boundary = template.Resources.KeyturnAccessBoundary!;
    expect(boundary.Properties.Path).toBe('/keyturn-boundary/');
    expect(boundary.Properties.ManagedPolicyName).toBe('keyturn-access-boundary');
    const text = JSON.stringify(boundary.Properties.PolicyDocument);
    expect(text).toContain('arn:${AWS::Partition}:ssm:ap-northeast-3:${AWS::AccountId}:managed-instance/*');
    expect(text).toContain('arn:${AWS::Partition}:ssm:eu-central-1:${AWS::AccountId}:managed-instance/*');
    // The IAM policy variable stays a literal string, left for IAM (subPseudoParameters escapes it inside a Fn::Sub).
    expect(text).toContain('"ssm:resourceTag/aws:ssmmessages:session-id":"${aws:userid}"');
    expect(text).not.toMatch(/\d{12}/);
    for (const tags of ['osaka-pi', 'frankfurt-pi', 'staging-web']) expect(text).toContain(tags);
    expect(text).not.toContain('"west"');
  });

  it('stays the same size for 5 people as for 300, past the access roles', () => {
    const size = (n: number) =>
      JSON.stringify(grantorTemplate(config(orgYaml(people(n)))).Resources.KeyturnGrantorRole).length;
    expect(size(300)).toBe(size(5));
  });

  it(`moves the access roles to templates of ${PEOPLE_PER_STACK} past ${PEOPLE_PER_STACK} people, bounded by the boundary's ARN there`, () => {
    const many = config(orgYaml(people(PEOPLE_PER_STACK + 1)));
    const files = organisationTemplates(many);
    expect(files.map((f) => f.file)).toEqual([
      'keyturn-grantor.json',
      'keyturn-grantor-access-roles-1.json',
      'keyturn-grantor-access-roles-2.json',
      'keyturn-forwarder.json',
    ]);
    expect(Object.keys(files[0]!.template.Resources).filter((id) => id.startsWith('AccessRole'))).toEqual([]);
    expect(Object.keys(files[1]!.template.Resources)).toHaveLength(PEOPLE_PER_STACK);
    const [last] = Object.values(files[2]!.template.Resources);
    expect(last!.Properties.RoleName).toBe(`keyturn-u0p${String(PEOPLE_PER_STACK).padStart(4, '0')}`);
    expect(last!.Properties.PermissionsBoundary).toEqual({
      'Fn::Sub':
        'arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/keyturn-boundary/keyturn-access-boundary',
    });
    const fit = organisationTemplates(config(orgYaml(people(PEOPLE_PER_STACK))));
    expect(fit.map((f) => f.file)).toEqual(['keyturn-grantor.json', 'keyturn-forwarder.json']);
  });

  it('is written only with member accounts; the forwarder always', () => {
    expect(organisationTemplates(single).map((t) => t.file)).toEqual(['keyturn-forwarder.json']);
    expect(organisationTemplates(org).map((t) => t.file)).toEqual([
      'keyturn-grantor.json',
      'keyturn-forwarder.json',
    ]);
  });
});

describe('event forwarding', () => {
  const forwarder = forwarderTemplate(org);

  it("sends the region's session and command events to Keyturn's bus through a role that may only put there", () => {
    const rules = Object.values(forwarder.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map((r) => r.Properties.EventPattern)).toEqual([
      {
        source: ['aws.ssm'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventName: ['StartSession', 'TerminateSession', 'ResumeSession'] },
      },
      {
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: {
          'document-name': ['AWS-RunShellScript'],
          status: [{ 'anything-but': ['Pending', 'InProgress', 'Delayed', 'Cancelling'] }],
        },
      },
    ]);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([
        {
          Id: 'keyturn-home-bus',
          Arn: { Ref: 'KeyturnEventBusArn' },
          RoleArn: { 'Fn::GetAtt': ['KeyturnEventForwarderRole', 'Arn'] },
        },
      ]);
    }
    const role = forwarder.Resources.KeyturnEventForwarderRole!;
    expect(role.Properties.RoleName).toBeUndefined();
    expect(role.Properties.Policies).toEqual([
      {
        PolicyName: 'put-events-on-keyturn-bus',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'KeyturnEventBusArn' } },
          ],
        },
      },
    ]);
  });

  it('uses the same patterns as the home rules, less the account, and the grantor template carries them', () => {
    const { account: _account, ...session } = sessionEventsPattern(org);
    expect(forwarder.Resources.KeyturnSessionEventsForwarder!.Properties.EventPattern).toEqual(session);
    const { account: _account2, ...command } = commandEventsPattern(org);
    expect(forwarder.Resources.KeyturnCommandEventsForwarder!.Properties.EventPattern).toEqual(command);
    const grantor = grantorTemplate(org);
    for (const [id, resource] of Object.entries(forwarder.Resources)) {
      expect(grantor.Resources[id]).toEqual(resource);
    }
  });
});

describe('subPseudoParameters', () => {
  it('substitutes pseudo parameters, escapes policy variables beside them, and leaves other strings', () => {
    expect(
      subPseudoParameters({
        a: 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:session/${aws:userid}',
        b: '${aws:userid}',
        c: ['plain', 1, true],
      }),
    ).toEqual({
      a: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:session/${!aws:userid}' },
      b: '${aws:userid}',
      c: ['plain', 1, true],
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// What IAM decides (offline evaluator), with the grantor template deployed in FACTORY.

const ALLOW_ALL_ASSUME = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
};

describe('who may assume the grantor role in a member account (IAM policy evaluator)', () => {
  const template = grantorTemplate(org);
  const trust = resolveIn(
    FACTORY,
    { KeyturnFunctionsRoleArn: FUNCTIONS_ROLE },
    template.Resources.KeyturnGrantorRole!.Properties.AssumeRolePolicyDocument,
  );
  const GRANTOR = `arn:aws:iam::${FACTORY}:role/keyturn-grantor`;

  /** sts:AssumeRole of the grantor role by a role session `principalArn` whose own policies allow it. */
  async function assume(principal: string, principalArn: string, policy: unknown = trust): Promise<Decision> {
    const principalAccount = principal.split(':')[4]!;
    const response = await runSimulation(
      {
        request: {
          principal,
          action: 'sts:AssumeRole',
          resource: { resource: GRANTOR, accountId: FACTORY },
          contextVariables: {
            'aws:PrincipalArn': principalArn,
            'aws:PrincipalAccount': principalAccount,
            'sts:RoleSessionName': 'keyturn',
          },
        },
        identityPolicies: [{ name: 'own', policy: ALLOW_ALL_ASSUME }],
        resourcePolicy: policy as never,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      { simulationMode: 'Strict' },
    );
    return analysisResult(response);
  }

  it("admits Keyturn's functions' role", async () => {
    expect(await assume(FUNCTIONS_ROLE, FUNCTIONS_ROLE)).toBe('Allowed');
  });

  it('would admit another home role if it trusted the home account root (the evaluator tells them apart)', async () => {
    const rootTrust = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOME}:root` }, Action: 'sts:AssumeRole' },
      ],
    };
    const other = `arn:aws:iam::${HOME}:role/keyturn-dev-ap-northeast-1-lambdaRole`;
    expect(await assume(other, other, rootTrust)).toBe('Allowed');
    expect(await assume(other, other)).toBe('ImplicitlyDenied');
  });

  it.each<[string, string]>([
    ['another role in the home account', `arn:aws:iam::${HOME}:role/keyturn-dev-ap-northeast-1-lambdaRole`],
    ['an IAM user in the home account', `arn:aws:iam::${HOME}:user/alice`],
    ["the home account's root", `arn:aws:iam::${HOME}:root`],
    [
      "a person's access role in the home account",
      `arn:aws:iam::${HOME}:role/keyturn/people/keyturn-u0alice`,
    ],
    ["the member account's root", `arn:aws:iam::${FACTORY}:root`],
    ['a role in the member account', `arn:aws:iam::${FACTORY}:role/admin`],
    [
      "a role of the functions' name in another account",
      `arn:aws:iam::${OTHER}:role/keyturn-prod-ap-northeast-1-lambdaRole`,
    ],
    ['the grantor role of another member account', `arn:aws:iam::${STAGING}:role/keyturn-grantor`],
  ])('denies %s', async (_what, principal) => {
    expect(await assume(principal, principal)).toBe('ImplicitlyDenied');
  });
});

describe('a grant in one account allows nothing in another (IAM policy evaluator)', () => {
  const osaka = org.targets['osaka-pis']!;
  const window = { startsAt: '2026-11-03T10:00:00Z', expiresAt: '2026-11-03T11:00:00Z' };
  const rendered = grantPolicy(org, window, osaka);
  if (!rendered.ok) throw new Error('the grant policy did not render');
  const node = (account: string, region = 'ap-northeast-3') =>
    `arn:aws:ssm:${region}:${account}:managed-instance/mi-0a1b2c3d4e5f60001`;

  async function startSession(account: string, nodeArn: string): Promise<Decision> {
    const response = await runSimulation(
      {
        request: {
          principal: `arn:aws:sts::${account}:assumed-role/keyturn-u0alice/alice`,
          action: 'ssm:StartSession',
          resource: { resource: nodeArn, accountId: nodeArn.split(':')[4]! },
          contextVariables: {
            'aws:CurrentTime': '2026-11-03T10:30:00Z',
            'ssm:resourceTag/Fleet': 'osaka-pi',
            'aws:PrincipalAccount': account,
          },
        },
        identityPolicies: [{ name: 'grant', policy: rendered.ok ? rendered.value : {} }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      { simulationMode: 'Strict' },
    );
    return analysisResult(response);
  }

  it("allows a session on the target's nodes in its own account and region", async () => {
    expect(await startSession(FACTORY, node(FACTORY))).toBe('Allowed');
  });

  it.each<[string, string]>([
    ['the home account', HOME],
    ['another member account', STAGING],
    ['an account Keyturn does not serve', OTHER],
  ])('allows no session on a node with the same tags in %s', async (_what, account) => {
    expect(await startSession(FACTORY, node(account))).toBe('ImplicitlyDenied');
    expect(await startSession(account, node(account))).toBe('ImplicitlyDenied');
  });

  it('allows no session in another region of the same account', async () => {
    expect(await startSession(FACTORY, node(FACTORY, 'eu-central-1'))).toBe('ImplicitlyDenied');
  });
});
