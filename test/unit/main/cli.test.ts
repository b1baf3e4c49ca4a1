import os from 'node:os';
import path from 'node:path';
import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { applyGrant, grantPolicyArn } from '../../../src/app/apply-grant';
import { decideOnGrant } from '../../../src/app/decide';
import { grantPolicy } from '../../../src/app/grant-policy';
import { requestAccess } from '../../../src/app/request-access';
import { loadConfig } from '../../../src/config/load';
import { runCli } from '../../../src/main/cli';
import {
  onePlace,
  ManualClock,
  MemoryGrantStore,
  RecordingChat,
  RecordingQueue,
  silentLogger,
} from '../../support/fakes';

const EXAMPLE = path.resolve(__dirname, '../../../keyturn.example.yml');
const env = { KEYTURN_CONFIG: EXAMPLE };
const AT = '2026-11-23T10:00:00Z';
/** "Now" for runs without --at: deliberately not on a whole second. */
const NOW = new Date('2026-12-01T08:30:15.678Z');

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(argv, {
    env,
    cwd: os.tmpdir(),
    now: () => new Date(NOW),
    out: (s) => out.push(s),
    err: (s) => err.push(s),
  });
  return { code, out, err: err.join('\n') };
}

const config = loadConfig({ env, cwd: os.tmpdir(), log: () => {} });

function rendered(user: string, target: string, startsAt: string, expiresAt: string) {
  const t = config.targets[target];
  if (!config.people[user] || !t) throw new Error(`example config lacks ${user} or ${target}`);
  const doc = grantPolicy(config, { startsAt, expiresAt }, t);
  if (!doc.ok) throw new Error(`did not render: ${JSON.stringify(doc.error)}`);
  return doc.value;
}

/** The worker's path for the same request: request, approve at `approvedAt`, apply on a simulated account. */
async function attachedByApproval(user: string, target: string, duration: string, approvedAt: string) {
  const clock = new ManualClock(new Date(Date.parse(approvedAt) - 5 * 60_000));
  const account = new SimulatedAccount({
    accountId: config.aws.accountId,
    region: config.aws.region,
    nodes: config.sandbox.fleet,
    clock,
  });
  const deps = {
    config,
    clock,
    grants: new MemoryGrantStore(),
    queue: new RecordingQueue(),
    chat: new RecordingChat(),
    aws: onePlace({ access: account }),
    logger: silentLogger,
    newId: () => 'cli1',
    readiness: { maxWaitMs: 1_000, firstDelayMs: 100 },
  };
  const requested = await requestAccess(deps, { user, text: `${target} ${duration} compare with the CLI` });
  expect(requested.outcome).toBe('requested');
  clock.set(approvedAt);
  const decided = await decideOnGrant(deps, { grantId: 'cli1', clicker: 'U0CAROL', action: 'approve' });
  expect(decided.outcome).toBe('approved');
  expect(await applyGrant(deps, 'cli1')).toBe('activated');
  return account.policyDocument(grantPolicyArn(config.aws, 'cli1'));
}

describe('keyturn policy', () => {
  it('prints, as JSON and nothing else, the policy for the given window', () => {
    const { code, out, err } = run(
      'policy',
      'prod-raspi',
      '--user',
      'U0ALICE',
      '--duration',
      '1h',
      '--at',
      AT,
    );

    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toHaveLength(1);
    const printed = JSON.parse(out[0]!);
    expect(printed).toEqual(rendered('U0ALICE', 'prod-raspi', AT, '2026-11-23T11:00:00Z'));
    // Checked literally too, so a wrong window cannot hide behind the helper computing the same wrong thing.
    for (const statement of printed.Statement) {
      expect(statement.Condition.DateGreaterThanEquals).toEqual({ 'aws:CurrentTime': AT });
      expect(statement.Condition.DateLessThan).toEqual({ 'aws:CurrentTime': '2026-11-23T11:00:00Z' });
    }
    expect(printed.Statement[0].Condition.StringEquals).toEqual({ 'ssm:resourceTag/Fleet': 'prod-raspi' });
  });

  it.each([
    ['U0ALICE', 'prod-raspi', '1h'],
    ['U0DAVE', 'prod-raspi', '2h30m'],
    ['U0BOB', 'staging-web', '30m'],
  ])(
    'prints exactly what an approval at that instant attaches (%s, %s, %s)',
    async (user, target, duration) => {
      const { code, out } = run('policy', target, '--user', user, '--duration', duration, '--at', AT);
      expect(code).toBe(0);

      const attached = await attachedByApproval(user, target, duration, AT);

      expect(attached).toBeDefined();
      expect(JSON.parse(out[0]!)).toEqual(attached);
    },
  );

  it('uses the current time, to the second, when --at is not given', () => {
    const { code, out } = run('policy', 'prod-raspi', '--user', 'U0ALICE', '--duration', '30m');

    expect(code).toBe(0);
    expect(JSON.parse(out[0]!)).toEqual(
      rendered('U0ALICE', 'prod-raspi', '2026-12-01T08:30:15Z', '2026-12-01T09:00:15Z'),
    );
  });

  it.each([
    [
      'an unknown target, listing the targets',
      ['policy', 'prod-rasp', '--user', 'U0ALICE', '--duration', '1h'],
      /No target 'prod-rasp'\. Targets: prod-raspi, staging-web, factory-pi\./,
    ],
    [
      'an unmapped user',
      ['policy', 'prod-raspi', '--user', 'U0NOBODY', '--duration', '1h'],
      /U0NOBODY is not mapped to an AWS principal/,
    ],
    [
      'a bad duration',
      ['policy', 'prod-raspi', '--user', 'U0ALICE', '--duration', '1x'],
      /--duration: '1x' is not a duration like 30m, 1h/,
    ],
    [
      'a duration over the target maximum',
      ['policy', 'prod-raspi', '--user', 'U0ALICE', '--duration', '5h'],
      /--duration: prod-raspi allows at most 4h/,
    ],
    [
      'a bad --at',
      ['policy', 'prod-raspi', '--user', 'U0ALICE', '--duration', '1h', '--at', 'tomorrow'],
      /--at: 'tomorrow' is not an ISO time/,
    ],
    ['a missing --user', ['policy', 'prod-raspi', '--duration', '1h'], /--user <SlackUserId> is required/],
    ['a missing --duration', ['policy', 'prod-raspi', '--user', 'U0ALICE'], /--duration is required/],
    ['a missing target', ['policy', '--user', 'U0ALICE', '--duration', '1h'], /exactly one target/],
    [
      'two targets',
      ['policy', 'prod-raspi', 'staging-web', '--user', 'U0ALICE', '--duration', '1h'],
      /exactly one target/,
    ],
    [
      'an unknown flag',
      ['policy', 'prod-raspi', '--user', 'U0ALICE', '--duration', '1h', '--role', 'admin'],
      /Unknown option '--role'/,
    ],
    ['an unknown command', ['grant', 'prod-raspi'], /Unknown command 'grant'/],
    ['no command', [], /Usage:/],
  ])('exits 2 on %s, saying so on stderr and printing nothing on stdout', (_, argv, message) => {
    const { code, out, err } = run(...argv);

    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(out).toEqual([]);
  });

  it.each([['help'], ['--help']])('%s exits 0 with the usage and prints nothing on stdout', (command) => {
    const { code, out, err } = run(command);

    expect(code).toBe(0);
    expect(err).toMatch(/keyturn policy <target> --user <SlackUserId> --duration/);
    expect(out).toEqual([]);
  });

  it('exits 1 without stdout output when the configuration cannot be loaded', () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = runCli(['policy', 'prod-raspi', '--user', 'U0ALICE', '--duration', '1h'], {
      env: { KEYTURN_CONFIG: path.join(os.tmpdir(), 'keyturn-does-not-exist.yml') },
      cwd: os.tmpdir(),
      now: () => new Date(NOW),
      out: (s) => out.push(s),
      err: (s) => err.push(s),
    });

    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/^keyturn: .*keyturn-does-not-exist\.yml/);
    expect(out).toEqual([]);
  });
});
