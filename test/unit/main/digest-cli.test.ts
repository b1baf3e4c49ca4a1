import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../../src/config/types';
import { runCli } from '../../../src/main/cli';
import type { DigestCliIo, DigestRuntime } from '../../../src/main/digest-cli';
import { anomalies, grants, sessions } from '../../support/digest-fixture';
import {
  ManualClock,
  MemoryGrantStore,
  type RecordingSessionChat,
  sessionFakes,
  silentLogger,
} from '../../support/fakes';

const EXAMPLE = path.resolve(__dirname, '../../../keyturn.example.yml');
/** 09:00 in Tokyo (the example's digest.timezone) on the 24th. */
const NOW = new Date('2026-11-24T00:00:00Z');

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let chat: RecordingSessionChat | undefined;
  let closed = false;
  const io: DigestCliIo = {
    env: { KEYTURN_CONFIG: EXAMPLE },
    cwd: os.tmpdir(),
    now: () => new Date(NOW),
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    openDigest: async (config: Config): Promise<DigestRuntime> => {
      const grantStore = new MemoryGrantStore();
      for (const g of grants) grantStore.items.set(g.id, structuredClone(g));
      const fakes = sessionFakes(grantStore);
      for (const s of sessions) fakes.sessions.items.set(s.id, structuredClone(s));
      for (const a of anomalies) await fakes.anomalies.record(a);
      chat = fakes.sessionChat;
      return {
        deps: {
          config,
          clock: new ManualClock(new Date(NOW)),
          grants: grantStore,
          digestData: fakes.digestData,
          runs: { listByDay: async () => [], nodeResults: async () => [] },
          sessionChat: fakes.sessionChat,
          logger: silentLogger,
        },
        close: async () => {
          closed = true;
        },
      };
    },
  };
  const code = await runCli(argv, io);
  return { code, out, err: err.join('\n'), chat, closed };
}

describe('keyturn digest', () => {
  it('prints yesterday’s digest (in digest.timezone) as text on stdout, and posts nothing', async () => {
    const { code, out, chat, closed } = await run('digest');
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^Keyturn digest for Monday 23 November 2026 \(Asia\/Tokyo\)\n/);
    expect(out[0]).toContain('Requests: 6 —');
    expect(chat?.digests).toEqual([]);
    expect(closed).toBe(true);
  });

  it('--date picks the day; --post also sends it to the audit channel', async () => {
    const { code, out, err, chat } = await run('digest', '--date', '2026-11-22', '--post');
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^Keyturn digest for Sunday 22 November 2026/);
    expect(chat?.digests.map((d) => [d.channel, d.view.day.date])).toEqual([['C0AUDIT', '2026-11-22']]);
    expect(err).toContain('Posted the digest for 2026-11-22 to C0AUDIT.');
  });

  it.each([
    [['digest', '--date', '2026-02-30'], /--date: '2026-02-30' is not a date like 2026-11-23/],
    [['digest', '--day', '2026-11-22'], /Unknown option '--day'/],
    [['digest', 'yesterday'], /Unexpected argument 'yesterday'/],
  ])('refuses %p with usage on stderr and exit code 2', async (argv, message) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toMatch(message);
    expect(err).toContain('keyturn digest [--date YYYY-MM-DD] [--post]');
  });

  it('without KEYTURN_TABLE it says where the data is, exit 1, nothing on stdout', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['digest'], {
      env: { KEYTURN_CONFIG: EXAMPLE },
      cwd: os.tmpdir(),
      now: () => new Date(NOW),
      out: (s) => out.push(s),
      err: (s) => err.push(s),
    });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/^keyturn: the digest reads the DynamoDB table named by KEYTURN_TABLE/m);
  });
});
