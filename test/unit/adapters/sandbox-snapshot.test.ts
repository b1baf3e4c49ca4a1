import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeSlackApi } from '../../../src/adapters/sandbox/fake-slack-api';
import {
  keepSnapshots,
  readSnapshot,
  type SandboxSnapshot,
  writeSnapshot,
} from '../../../src/adapters/sandbox/sandbox-snapshot';
import { SimulatedAccount } from '../../../src/adapters/sandbox/simulated-account';
import { POLICY_PATH, policyName, renderGrantPolicy } from '../../../src/domain/policy';
import type { Principal } from '../../../src/domain/principal';
import { ManualClock, silentLogger, testConfig } from '../../support/fakes';

const alice: Principal = { kind: 'user', name: 'alice' };
const RASPI = 'mi-0a1b2c3d4e5f60001';
const config = testConfig();

function account(clock = new ManualClock(new Date('2026-11-23T10:30:00Z'))) {
  return new SimulatedAccount({ ...config.aws, nodes: config.sandbox.fleet, clock });
}

async function grantAlice(a: SimulatedAccount): Promise<void> {
  const rendered = renderGrantPolicy({
    ...config.aws,
    target: { tags: { Fleet: 'prod-raspi' }, documents: ['shell'] },
    startsAt: '2026-11-23T10:00:00Z',
    expiresAt: '2026-11-23T11:00:00Z',
  });
  if (!rendered.ok) throw new Error('policy did not render');
  const { arn } = await a.createPolicy({
    name: policyName('a1b2'),
    path: POLICY_PATH,
    description: 'grant a1b2',
    document: rendered.value,
    tags: {},
  });
  await a.attachPolicy(alice, arn);
}

describe('SimulatedAccount snapshots', () => {
  it('a restored account answers IAM as the saved one did, sessions included', async () => {
    const saved = account();
    await grantAlice(saved);
    const opened = await saved.startSession(alice, RASPI);
    expect(opened.ok).toBe(true);

    const restored = account();
    restored.restore(JSON.parse(JSON.stringify(saved.snapshot())));
    expect(await restored.evaluate(alice, RASPI)).toBe('allowed');
    expect(restored.attachedPolicies(alice)).toEqual(saved.attachedPolicies(alice));
    expect(restored.openSessionsOf(alice)).toEqual(saved.openSessionsOf(alice));
    // IAM never reuses a version number, restored or not.
    await restored.createPolicyVersion(
      restored.policyArns()[0] as string,
      restored.policyDocument(restored.policyArns()[0] as string) as never,
    );
    expect(restored.policy(restored.policyArns()[0] as string)?.versions.map((v) => v.versionId)).toEqual([
      'v1',
      'v2',
    ]);
  });

  it('restore with nothing forgets everything', async () => {
    const a = account();
    await grantAlice(a);
    a.restore();
    expect(a.policyArns()).toEqual([]);
    expect(await a.evaluate(alice, RASPI)).toBe('denied');
    expect(a.calls).toEqual([]);
  });

  it('openSessionsOf lists only that principal’s sessions and is not one of Keyturn’s calls', async () => {
    const a = account();
    await grantAlice(a);
    await a.startSession(alice, RASPI);
    const before = a.calls.length;
    expect(a.openSessionsOf(alice)).toHaveLength(1);
    expect(a.openSessionsOf({ kind: 'user', name: 'bob' })).toEqual([]);
    expect(a.calls).toHaveLength(before);
  });
});

describe('FakeSlackApi snapshots and sandbox messages', () => {
  it('records what did not come through the Web API, stamped with the clock, and keeps ts unique', () => {
    const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
    const slack = new FakeSlackApi({ clock });
    const a = slack.record({ channel: 'C0WORK', text: 'hi', blocks: [], author: 'U0ALICE' });
    const b = slack.record({ channel: 'C0WORK', text: 'only you', blocks: [], visibleTo: 'U0ALICE' });
    expect(a).toMatchObject({ postedAt: '2026-11-23T10:00:00.000Z', author: 'U0ALICE', updates: 0 });
    expect(b.ts).not.toBe(a.ts);
    expect(slack.ephemeralsFor('U0ALICE')).toEqual([b]);
    expect(slack.replace('C0WORK', a.ts, { text: 'edited', blocks: [] })).toBe(true);
    expect(slack.messages[0]).toMatchObject({ text: 'edited', updates: 1 });
    expect(slack.remove('C0WORK', a.ts)).toBe(true);
    expect(slack.remove('C0WORK', a.ts)).toBe(false);
  });

  it('a restored Slack continues the ts sequence, so no restored message is shadowed by a new one', () => {
    const saved = new FakeSlackApi();
    const first = saved.record({ channel: 'C0WORK', text: 'one', blocks: [] });
    const restored = new FakeSlackApi();
    restored.restore(JSON.parse(JSON.stringify(saved.snapshot())));
    const next = restored.record({ channel: 'C0WORK', text: 'two', blocks: [] });
    expect(restored.messages.map((m) => m.text)).toEqual(['one', 'two']);
    expect(next.ts).not.toBe(first.ts);
    restored.restore();
    expect(restored.messages).toEqual([]);
  });
});

describe('snapshot files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyturn-snapshot-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const snapshot = (offset: number): SandboxSnapshot => ({
    version: 1,
    clockOffsetMs: offset,
    slack: new FakeSlackApi().snapshot(),
    account: account().snapshot(),
  });

  it('round-trips through a file, creating its folder', () => {
    const file = path.join(dir, 'nested', 'sandbox.json');
    writeSnapshot(file, snapshot(600_000));
    expect(readSnapshot(file, silentLogger)).toEqual(snapshot(600_000));
  });

  it('starts clean, with a warning, from a missing, cut-short or foreign file', () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_: unknown, msg: string) => void warnings.push(msg) };
    expect(readSnapshot(path.join(dir, 'none.json'), logger)).toBeUndefined();
    expect(warnings).toEqual([]);
    const file = path.join(dir, 'sandbox.json');
    writeFileSync(file, '{"version":1,"slack":');
    expect(readSnapshot(file, logger)).toBeUndefined();
    writeFileSync(file, '{"version":2}');
    expect(readSnapshot(file, logger)).toBeUndefined();
    expect(warnings).toHaveLength(2);
  });

  it('saves on demand only when something changed, and once more on stop', () => {
    const file = path.join(dir, 'sandbox.json');
    let offset = 0;
    const keeper = keepSnapshots({
      file,
      take: () => snapshot(offset),
      logger: silentLogger,
      everyMs: 60_000,
    });
    keeper.save();
    const first = readFileSync(file, 'utf8');
    rmSync(file);
    keeper.save();
    expect(() => readFileSync(file)).toThrow();
    offset = 60_000;
    keeper.stop();
    expect(JSON.parse(readFileSync(file, 'utf8')).clockOffsetMs).toBe(60_000);
    expect(JSON.parse(first).clockOffsetMs).toBe(0);
  });
});
