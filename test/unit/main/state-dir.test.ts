import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claimStateDir } from '../../../src/main/state-dir';

describe('claimStateDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'keyturn-claim-')), '.keyturn');
  });
  afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('creates the directory, writes this pid, and removes it on release', () => {
    const claim = claimStateDir(dir);
    expect(claim.ok).toBe(true);
    expect(readFileSync(path.join(dir, 'keyturn.pid'), 'utf8')).toBe(String(process.pid));
    if (claim.ok) claim.release();
    expect(existsSync(path.join(dir, 'keyturn.pid'))).toBe(false);
  });

  it('refuses while another live process holds it, naming that process', () => {
    // This test's own parent is alive and is not us.
    claimStateDir(dir, process.ppid);
    const claim = claimStateDir(dir);
    expect(claim).toEqual({
      ok: false,
      reason: expect.stringContaining(`in use by another Keyturn (pid ${process.ppid})`),
    });
  });

  it('takes over a pid file left by a process that is gone', () => {
    const gone = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    claimStateDir(dir);
    writeFileSync(path.join(dir, 'keyturn.pid'), gone);
    expect(claimStateDir(dir).ok).toBe(true);
  });

  it('release leaves a pid file that another process wrote since', () => {
    const claim = claimStateDir(dir);
    writeFileSync(path.join(dir, 'keyturn.pid'), '1');
    if (claim.ok) claim.release();
    expect(readFileSync(path.join(dir, 'keyturn.pid'), 'utf8')).toBe('1');
  });
});
