import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claimStateDir } from '../../../src/main/state-dir';

const REPO = path.resolve(__dirname, '../../..');

/** Resolves with the first line the child prints. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code} before a line: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('claimStateDir', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'keyturn-claim-')), '.keyturn');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('creates the directory, writes this pid, and removes it on release', async () => {
    const claim = await claimStateDir(dir);
    expect(claim.ok).toBe(true);
    expect(readFileSync(path.join(dir, 'keyturn.pid'), 'utf8')).toBe(String(process.pid));
    if (claim.ok) await claim.release();
    expect(existsSync(path.join(dir, 'keyturn.pid'))).toBe(false);
  });

  it('a stale pid file naming an unrelated live process does not block start-up', async () => {
    // A reused pid after kill -9 or a reboot: the pid is alive, but it is not a Keyturn.
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'keyturn.pid'), String(sleeper.pid));
    const claim = await claimStateDir(dir);
    expect(claim.ok).toBe(true);
    if (claim.ok) await claim.release();
  });

  it('refuses while another Keyturn in this process holds it, naming the pid and how to stop it', async () => {
    const first = await claimStateDir(dir);
    expect(first.ok).toBe(true);
    const second = await claimStateDir(dir);
    expect(second).toEqual({
      ok: false,
      reason: expect.stringContaining(`in use by another Keyturn (pid ${process.pid}); stop it first`),
    });
    if (first.ok) await first.release();
    const third = await claimStateDir(dir);
    expect(third.ok).toBe(true);
    if (third.ok) await third.release();
  });

  it('refuses while a live Keyturn in another process holds it, and takes over once that one is killed -9', async () => {
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `require('tsx/cjs');
         require(${JSON.stringify(path.join(REPO, 'src/main/state-dir.ts'))})
           .claimStateDir(${JSON.stringify(dir)})
           .then((claim) => { console.log(claim.ok ? 'claimed' : claim.reason); setInterval(() => {}, 1000); });`,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(holder);
    expect(await firstLine(holder)).toBe('claimed');

    const refused = await claimStateDir(dir);
    expect(refused).toEqual({
      ok: false,
      reason: expect.stringContaining(
        `(pid ${holder.pid}); stop it first (Ctrl-C in its terminal, or kill ${holder.pid})`,
      ),
    });

    // No chance to clean up: the kernel closes its socket, and the files it left are stale.
    holder.kill('SIGKILL');
    await exited(holder);
    const taken = await claimStateDir(dir);
    expect(taken.ok).toBe(true);
    if (taken.ok) await taken.release();
  }, 30_000);

  it('makes the directory 0700 and what is in it 0600, fixing what an older start left readable', async () => {
    mkdirSync(path.join(dir, 'dynalite'), { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, 'dynalite'), 0o755);
    writeFileSync(path.join(dir, 'sandbox.json'), '{}', { mode: 0o644 });
    writeFileSync(path.join(dir, 'dynalite', '000001.log'), 'x', { mode: 0o644 });
    const claim = await claimStateDir(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'dynalite'))).toBe(0o700);
    expect(mode(path.join(dir, 'sandbox.json'))).toBe(0o600);
    expect(mode(path.join(dir, 'dynalite', '000001.log'))).toBe(0o600);
    expect(mode(path.join(dir, 'keyturn.pid'))).toBe(0o600);
    if (claim.ok) await claim.release();
  });

  it('creates a new directory 0700', async () => {
    const claim = await claimStateDir(dir);
    expect(mode(dir)).toBe(0o700);
    if (claim.ok) await claim.release();
  });
});
