import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Claims `dir` for this process with a pid file. dynalite's LevelDB store takes a lock a second
 * process cannot get, and then fails with a bare "Database is closed": this names the other
 * process instead. A pid file left by a crash is taken over. Returns the release function, or a
 * reason when another live process holds the directory.
 */
export function claimStateDir(
  dir: string,
  pid: number = process.pid,
): { ok: true; release: () => void } | { ok: false; reason: string } {
  const file = path.join(dir, 'keyturn.pid');
  const holder = Number.parseInt(readOr(file, ''), 10);
  if (Number.isInteger(holder) && holder !== pid && isAlive(holder)) {
    return {
      ok: false,
      reason: `${dir}/ is in use by another Keyturn (pid ${holder}); stop it first, or start this one in another directory`,
    };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, String(pid));
  return {
    ok: true,
    release: () => {
      if (readOr(file, '') === String(pid)) rmSync(file, { force: true });
    },
  };
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still holds the lock.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
