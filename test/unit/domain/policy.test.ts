// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables and template placeholders are literal ${…} text.
import readOnlyTemplate from '../../../policies/read-only.json';
import sessionTemplate from '../../../policies/session.json';
import terminateOwnTemplate from '../../../policies/terminate-own.json';
import {
  type GrantPolicyInput,
  MAX_POLICY_CHARS,
  POLICY_PATH,
  policyChars,
  policyName,
  renderGrantPolicy,
  validateGrantPolicy,
} from '../../../src/domain/policy';
import type { PolicyDocument, PolicyStatement } from '../../../src/domain/policy-document';

const BASE: GrantPolicyInput = {
  accountId: '123456789012',
  region: 'eu-west-1',
  target: { tags: { Fleet: 'prod-raspi', Env: 'prod' }, documents: ['ssh', 'shell'] },
  startsAt: '2026-11-03T10:00:00Z',
  expiresAt: '2026-11-03T11:00:00Z',
};

function input(over: Partial<GrantPolicyInput> = {}): GrantPolicyInput {
  return { ...BASE, ...over };
}

function render(over: Partial<GrantPolicyInput> = {}): PolicyDocument {
  const result = renderGrantPolicy(input(over));
  if (!result.ok) throw new Error(`expected a policy, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function problemsOf(over: Partial<GrantPolicyInput>): string[] {
  const result = renderGrantPolicy(input(over));
  if (result.ok) throw new Error('expected the policy to be rejected');
  if (result.error.reason !== 'invalid') throw new Error(`expected invalid, got ${result.error.reason}`);
  return result.error.problems;
}

function statement(doc: PolicyDocument, sid: string): PolicyStatement {
  const found = doc.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
}

/** A valid rendered policy, changed by `edit`, so validation can be shown a document no input can produce. */
function tampered(edit: (doc: PolicyDocument) => void): PolicyDocument {
  const doc = structuredClone(render());
  edit(doc);
  return doc;
}

const WINDOW = {
  DateGreaterThanEquals: { 'aws:CurrentTime': '2026-11-03T10:00:00Z' },
  DateLessThan: { 'aws:CurrentTime': '2026-11-03T11:00:00Z' },
};

describe('policy naming', () => {
  it('puts every grant policy under /keyturn/ named after the grant', () => {
    expect(POLICY_PATH).toBe('/keyturn/');
    expect(policyName('01JC2Z8K3M')).toBe('keyturn-01JC2Z8K3M');
  });

  it('uses the IAM managed-policy size quota', () => {
    expect(MAX_POLICY_CHARS).toBe(6144);
  });
});

describe('renderGrantPolicy', () => {
  it('renders the whole grant for an IAM user as the design describes', () => {
    // Written from DESIGN.md "The grant policy", not copied from output.
    const expected: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'StartSessionOnTaggedNodes',
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: [
            'arn:aws:ec2:eu-west-1:123456789012:instance/*',
            'arn:aws:ssm:eu-west-1:123456789012:managed-instance/*',
          ],
          Condition: {
            StringEquals: { 'ssm:resourceTag/Fleet': 'prod-raspi', 'ssm:resourceTag/Env': 'prod' },
            BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
            ...WINDOW,
          },
        },
        {
          Sid: 'StartSessionWithPermittedDocuments',
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: [
            'arn:aws:ssm:eu-west-1:*:document/SSM-SessionManagerRunShell',
            'arn:aws:ssm:eu-west-1:*:document/AWS-StartSSHSession',
          ],
          Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' }, ...WINDOW },
        },
        {
          // AWS's documented form for every principal kind (FACTS.md, Session Manager).
          Sid: 'ManageOwnSessions',
          Effect: 'Allow',
          Action: ['ssm:TerminateSession', 'ssm:ResumeSession'],
          Resource: 'arn:aws:ssm:*:*:session/*',
          Condition: {
            StringEquals: { 'ssm:resourceTag/aws:ssmmessages:session-id': '${aws:userid}' },
            ...WINDOW,
          },
        },
        {
          // As AWS's own just-in-time node access policy grants it; the channel also needs the session token.
          Sid: 'OpenSessionDataChannels',
          Effect: 'Allow',
          Action: 'ssmmessages:OpenDataChannel',
          Resource: 'arn:aws:ssm:*:*:session/*',
          Condition: { ...WINDOW },
        },
        {
          Sid: 'DiscoverNodesAndSessions',
          Effect: 'Allow',
          Action: [
            'ssm:DescribeSessions',
            'ssm:GetConnectionStatus',
            'ssm:DescribeInstanceProperties',
            'ssm:DescribeInstanceInformation',
            'ec2:DescribeInstances',
          ],
          Resource: '*',
          Condition: { ...WINDOW },
        },
      ],
    };
    expect(render()).toEqual(expected);
  });

  it('names the partition of the region in every ARN (aws-cn, aws-us-gov)', () => {
    const china = JSON.stringify(render({ region: 'cn-north-1' }));
    expect(china).toContain('arn:aws-cn:ec2:cn-north-1:123456789012:instance/*');
    expect(china).toContain('arn:aws-cn:ssm:*:*:session/*');
    expect(china).not.toContain('arn:aws:');
    const gov = JSON.stringify(render({ region: 'us-gov-west-1' }));
    expect(gov).toContain('arn:aws-us-gov:ssm:us-gov-west-1:123456789012:managed-instance/*');
    expect(gov).not.toContain('arn:aws:');
  });

  it('never uses ${aws:username}: it matched alice-admin’s sessions for alice and nothing for a role', () => {
    expect(JSON.stringify(render())).not.toContain('aws:username');
  });

  it('leaves IAM policy variables for IAM to resolve and does not report them as unresolved', () => {
    const doc = render();
    expect(JSON.stringify(doc)).toContain('${aws:userid}');
    expect(validateGrantPolicy(doc)).toEqual([]);
  });

  it('requires every target tag on the node statement, and nothing else', () => {
    const tags = { Fleet: 'prod-raspi', Env: 'prod', Site: 'berlin-2', 'team:owner': 'platform' };
    const nodes = statement(render({ target: { tags, documents: ['shell'] } }), 'StartSessionOnTaggedNodes');
    expect(nodes.Condition?.StringEquals).toEqual({
      'ssm:resourceTag/Fleet': 'prod-raspi',
      'ssm:resourceTag/Env': 'prod',
      'ssm:resourceTag/Site': 'berlin-2',
      'ssm:resourceTag/team:owner': 'platform',
    });
  });

  it('renders the same text whatever order the config lists tags and documents in', () => {
    const a = render({ target: { tags: { Env: 'prod', Fleet: 'prod-raspi' }, documents: ['shell', 'ssh'] } });
    const b = render({ target: { tags: { Fleet: 'prod-raspi', Env: 'prod' }, documents: ['ssh', 'shell'] } });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it.each([
    [['shell'], ['arn:aws:ssm:eu-west-1:*:document/SSM-SessionManagerRunShell']],
    [['port-forward'], ['arn:aws:ssm:eu-west-1:*:document/AWS-StartPortForwardingSession']],
    [
      ['port-forward', 'ssh', 'ssh'],
      [
        'arn:aws:ssm:eu-west-1:*:document/AWS-StartSSHSession',
        'arn:aws:ssm:eu-west-1:*:document/AWS-StartPortForwardingSession',
      ],
    ],
  ] as const)('permits exactly the documents %j', (documents, arns) => {
    const docs = statement(
      render({ target: { tags: BASE.target.tags, documents } }),
      'StartSessionWithPermittedDocuments',
    );
    expect(docs.Resource).toEqual(arns);
  });

  it('bounds every statement by the grant window, because the expiry must hold with Keyturn down', () => {
    const doc = render({ startsAt: '2026-12-31T23:30:00Z', expiresAt: '2027-01-01T00:30:00Z' });
    expect(doc.Statement).toHaveLength(5);
    for (const s of doc.Statement) {
      expect(s.Condition?.DateGreaterThanEquals).toEqual({ 'aws:CurrentTime': '2026-12-31T23:30:00Z' });
      expect(s.Condition?.DateLessThan).toEqual({ 'aws:CurrentTime': '2027-01-01T00:30:00Z' });
    }
  });

  it('never changes the imported templates, so one grant cannot leak into the next', () => {
    const before = structuredClone([sessionTemplate, terminateOwnTemplate, readOnlyTemplate]);
    const first = render({ region: 'us-east-1', target: { tags: { Fleet: 'a' }, documents: ['ssh'] } });
    const second = render({ region: 'ap-southeast-2' });
    expect([sessionTemplate, terminateOwnTemplate, readOnlyTemplate]).toEqual(before);
    expect(JSON.stringify(sessionTemplate)).toContain('${region}');

    // Rendered documents share no objects with each other or the templates.
    statement(first, 'StartSessionOnTaggedNodes').Condition!.DateLessThan!['aws:CurrentTime'] = 'changed';
    expect(statement(second, 'StartSessionOnTaggedNodes').Condition?.DateLessThan).toEqual(
      WINDOW.DateLessThan,
    );
    expect(JSON.stringify(sessionTemplate)).not.toContain('changed');
    expect(JSON.stringify(render())).not.toContain('changed');
  });
});

describe('rejecting bad input', () => {
  it.each([
    ['too short', '12345'],
    ['too long', '1234567890123'],
    ['not digits', '12345678901a'],
    ['a wildcard', '*'],
  ])('rejects an account id that is %s', (_why, accountId) => {
    expect(problemsOf({ accountId })).toEqual(
      expect.arrayContaining([expect.stringMatching(/account id .* is not 12 digits/)]),
    );
  });

  it.each([
    ['upper case', 'EU-WEST-1'],
    ['a wildcard, which would reach every region', '*'],
    ['empty', ''],
    ['carrying an extra ARN field', 'eu-west-1:999999999999'],
  ])('rejects a region that is %s', (_why, region) => {
    expect(problemsOf({ region })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/region .* is not a region name|malformed|neither a node/),
      ]),
    );
  });

  it.each([
    ['milliseconds', '2026-11-03T10:00:00.000Z'],
    ['a space', '2026-11-03 10:00:00Z'],
    ['an offset', '2026-11-03T10:00:00+01:00'],
    ['no zone', '2026-11-03T10:00:00'],
    ['an impossible date', '2026-02-30T10:00:00Z'],
    ['words', 'tomorrow'],
  ])('rejects a start time with %s', (_why, startsAt) => {
    expect(problemsOf({ startsAt })).toEqual(
      expect.arrayContaining([expect.stringMatching(/start: .*(not a timestamp|not a real date)/)]),
    );
  });

  it('rejects a malformed expiry', () => {
    expect(problemsOf({ expiresAt: '2026-11-03T25:00:00Z' })).toEqual(
      expect.arrayContaining([expect.stringMatching(/expiry: .*(not a timestamp|not a real date)/)]),
    );
  });

  it.each([
    ['equal to', '2026-11-03T10:00:00Z'],
    ['before', '2026-11-03T09:00:00Z'],
  ])('rejects an expiry %s the start', (_why, expiresAt) => {
    expect(problemsOf({ expiresAt })).toEqual(
      expect.arrayContaining([expect.stringMatching(/is not before expiry/)]),
    );
  });

  it('rejects a target without documents: there would be nothing to start a session with', () => {
    const problems = problemsOf({ target: { tags: BASE.target.tags, documents: [] } });
    expect(problems).toEqual(
      expect.arrayContaining([
        'statement StartSessionWithPermittedDocuments: Resource is empty',
        'no session document is permitted',
      ]),
    );
  });

  it('rejects a target without tags: instance/* would then mean every node in the account', () => {
    expect(problemsOf({ target: { tags: {}, documents: ['shell'] } })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/node statement has no StringEquals ssm:resourceTag condition/),
      ]),
    );
  });

  it.each([
    ['a * in a key', { 'Fle*t': 'prod' }, /tag key .* contains a wildcard/],
    ['a ? in a value', { Fleet: 'prod-?' }, /value contains a wildcard/],
    ['a * in a value', { Fleet: '*' }, /value contains a wildcard/],
    ['a double quote', { Fleet: 'prod"' }, /value contains a quote/],
    ['a single quote', { Fleet: "prod'" }, /value contains a quote/],
    ['a newline', { Fleet: 'prod\nraspi' }, /value contains a control character/],
    ['a NUL in a key', { 'Fle\u0000et': 'prod' }, /tag key .* contains a control character/],
    ['an IAM policy variable', { Owner: '${aws:username}' }, /value contains an IAM policy variable/],
    ['an empty key', { '': 'prod' }, /empty tag key/],
  ])('rejects tags with %s', (_why, tags, problem) => {
    expect(problemsOf({ target: { tags, documents: ['shell'] } })).toEqual(
      expect.arrayContaining([expect.stringMatching(problem)]),
    );
  });
});

describe('validateGrantPolicy', () => {
  it('finds nothing wrong with a rendered policy', () => {
    expect(validateGrantPolicy(render())).toEqual([]);
  });

  const nodes = (doc: PolicyDocument) => statement(doc, 'StartSessionOnTaggedNodes');
  const cases: [string, (doc: PolicyDocument) => void, RegExp][] = [
    [
      'an unresolved placeholder',
      (d) => {
        nodes(d).Resource = ['arn:aws:ec2:${region}:123456789012:instance/*'];
      },
      /unresolved placeholder \$\{region\}/,
    ],
    [
      'an unresolved placeholder in a condition key',
      (d) => {
        nodes(d).Condition!.StringEquals = { 'ssm:resourceTag/${tagKey}': 'x' };
      },
      /unresolved placeholder \$\{tagKey\}/,
    ],
    [
      'an empty Action',
      (d) => {
        nodes(d).Action = [];
      },
      /StartSessionOnTaggedNodes: Action is empty/,
    ],
    [
      'an empty Resource',
      (d) => {
        nodes(d).Resource = [];
      },
      /StartSessionOnTaggedNodes: Resource is empty/,
    ],
    [
      'a service wildcard Action',
      (d) => {
        nodes(d).Action = 'ssm:*';
      },
      /Action ssm:\* has a wildcard/,
    ],
    [
      'a partial wildcard Action',
      (d) => {
        statement(d, 'DiscoverNodesAndSessions').Action = ['ssm:Describe*'];
      },
      /Action ssm:Describe\* has a wildcard/,
    ],
    [
      'a bare * Action',
      (d) => {
        nodes(d).Action = '*';
      },
      /Action \* has a wildcard/,
    ],
    [
      'an action Keyturn never grants',
      (d) => {
        statement(d, 'DiscoverNodesAndSessions').Action = ['ssm:DescribeSessions', 'ssm:SendCommand'];
      },
      /Action ssm:SendCommand is not one Keyturn grants/,
    ],
    [
      'a Deny',
      (d) => {
        nodes(d).Effect = 'Deny';
      },
      /Effect must be Allow, got "Deny"/,
    ],
    [
      'NotAction',
      (d) => {
        Object.assign(statement(d, 'DiscoverNodesAndSessions'), { NotAction: 'iam:*' });
      },
      /NotAction is not allowed/,
    ],
    [
      'a statement without a start',
      (d) => {
        delete statement(d, 'DiscoverNodesAndSessions').Condition!.DateGreaterThanEquals;
      },
      /DiscoverNodesAndSessions: missing DateGreaterThanEquals aws:CurrentTime/,
    ],
    [
      'a statement without an expiry',
      (d) => {
        delete statement(d, 'ManageOwnSessions').Condition!.DateLessThan;
      },
      /ManageOwnSessions: missing DateLessThan aws:CurrentTime/,
    ],
    [
      'a statement without any condition',
      (d) => {
        delete statement(d, 'StartSessionWithPermittedDocuments').Condition;
      },
      /StartSessionWithPermittedDocuments: missing DateLessThan/,
    ],
    [
      'statements with different windows',
      (d) => {
        statement(d, 'ManageOwnSessions').Condition!.DateLessThan = {
          'aws:CurrentTime': '2026-11-04T11:00:00Z',
        };
      },
      /statements disagree on the time window/,
    ],
    [
      'a node statement without tags',
      (d) => {
        delete nodes(d).Condition!.StringEquals;
      },
      /node statement has no StringEquals ssm:resourceTag condition/,
    ],
    [
      'a tag with several allowed values',
      (d) => {
        nodes(d).Condition!.StringEquals = { 'ssm:resourceTag/Env': ['prod', 'dev'] };
      },
      /must have exactly one string value/,
    ],
    [
      'no node statement at all',
      (d) => {
        d.Statement = d.Statement.filter((s) => s.Sid !== 'StartSessionOnTaggedNodes');
      },
      /no statement grants StartSession on tagged nodes/,
    ],
    [
      'StartSession on every resource',
      (d) => {
        nodes(d).Resource = '*';
      },
      /Resource "\*" is only allowed for read-only actions, not ssm:StartSession/,
    ],
    [
      'a StartSession statement without the document access check',
      (d) => {
        delete nodes(d).Condition!.BoolIfExists;
      },
      /StartSessionOnTaggedNodes: StartSession without BoolIfExists ssm:SessionDocumentAccessCheck/,
    ],
    [
      'a document Keyturn does not grant',
      (d) => {
        statement(d, 'StartSessionWithPermittedDocuments').Resource = [
          'arn:aws:ssm:eu-west-1:*:document/AWS-RunShellScript',
        ];
      },
      /AWS-RunShellScript is not a session document Keyturn grants/,
    ],
    [
      'an instance ARN under the wrong service',
      (d) => {
        nodes(d).Resource = ['arn:aws:ssm:eu-west-1:123456789012:instance/*'];
      },
      /instance belongs to ec2, not ssm/,
    ],
    [
      'somebody else’s sessions',
      (d) => {
        delete statement(d, 'ManageOwnSessions').Condition!.StringEquals;
      },
      /ManageOwnSessions: not scoped to the caller's own sessions/,
    ],
    [
      'own sessions matched by a name prefix (alice-* is also alice-admin’s)',
      (d) => {
        statement(d, 'ManageOwnSessions').Resource = 'arn:aws:ssm:*:*:session/${aws:username}-*';
      },
      /is not the session\/\* resource of own-session actions/,
    ],
    [
      'a Sid IAM would refuse',
      (d) => {
        nodes(d).Sid = 'start-session';
      },
      /Sid must be alphanumeric/,
    ],
  ];

  it.each(cases)('reports %s', (_why, edit, problem) => {
    expect(validateGrantPolicy(tampered(edit))).toEqual(
      expect.arrayContaining([expect.stringMatching(problem)]),
    );
  });
});

describe('size', () => {
  const manyTags = Object.fromEntries(
    Array.from({ length: 300 }, (_, i) => [
      `keyturn-fleet-tag-${String(i).padStart(3, '0')}`,
      `value-${'x'.repeat(40)}-${i}`,
    ]),
  );

  it('refuses a policy over the IAM quota, reporting its size', () => {
    const result = renderGrantPolicy(input({ target: { tags: manyTags, documents: ['shell'] } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual({ reason: 'too-large', chars: expect.any(Number), limit: MAX_POLICY_CHARS });
    if (result.error.reason === 'too-large') expect(result.error.chars).toBeGreaterThan(MAX_POLICY_CHARS);
  });

  it('reports an invalid policy as invalid even when it is also too large', () => {
    const result = renderGrantPolicy(
      input({ accountId: 'bad', target: { tags: manyTags, documents: ['shell'] } }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('invalid');
  });

  it('accepts the largest policy that fits, and refuses one character more', () => {
    const withValue = (value: string) => input({ target: { tags: { Fleet: value }, documents: ['shell'] } });
    const base = renderGrantPolicy(withValue(''));
    if (!base.ok) throw new Error('base policy should render');
    const room = MAX_POLICY_CHARS - policyChars(base.value);
    expect(renderGrantPolicy(withValue('v'.repeat(room))).ok).toBe(true);
    expect(renderGrantPolicy(withValue('v'.repeat(room + 1)))).toEqual({
      ok: false,
      error: { reason: 'too-large', chars: MAX_POLICY_CHARS + 1, limit: MAX_POLICY_CHARS },
    });
  });

  it('counts what IAM counts: no formatting whitespace, one per character', () => {
    const doc = render();
    const pretty = JSON.stringify(doc, null, 2);
    expect(policyChars(doc)).toBe(pretty.replace(/\s+/g, '').length);
    const ascii = render({ target: { tags: { Fleet: 'k' }, documents: ['shell'] } });
    const astral = render({ target: { tags: { Fleet: '🔑' }, documents: ['shell'] } });
    expect(policyChars(astral)).toBe(policyChars(ascii));
  });
});
