import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';

export type StateDirClaim = { ok: true; release: () => Promise<void> } | { ok: false; reason: string };

/** Unix socket paths are capped at 108 bytes on Linux and 104 on macOS (sun_path), the NUL included. */
const MAX_SOCKET_PATH = 100;
/** How long a live holder has to say its pid; a connection that succeeds is proof enough without it. */
const ASK_TIMEOUT_MS = 1_000;

/**
 * Claims `dir` for this process. dynalite's LevelDB store takes a lock a second process cannot get,
 * and then fails with a bare "Database is closed": this names the other process instead.
 *
 * The lock is a Unix socket in `dir` that this process listens on. Why a socket and not the pid file
 * this used to read: a pid survives its process (kill -9, OOM, reboot) and gets reused, so "is that
 * pid alive" refused to start after a crash whenever an unrelated process had the pid. A listening
 * socket is the kernel's to close when the process dies, however it dies; a connection then fails
 * (ECONNREFUSED, or ENOENT when the file is gone), which marks the file stale. Node has no flock(2),
 * and a native module for it would break `npm ci` on machines without a compiler. The holder answers
 * each connection with its pid, so a refusal names the process to stop. `keyturn.pid` is still
 * written, for people (`kill $(cat .keyturn/keyturn.pid)`), but never read.
 *
 * Also creates `dir` private to its owner (0700, files 0600): it holds grants, reasons and command
 * output.
 */
export async function claimStateDir(dir: string, pid: number = process.pid): Promise<StateDirClaim> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  secureStateDir(dir);
  const socketPath = socketPathIn(dir);
  const pidFile = path.join(dir, 'keyturn.pid');
  // Twice: a Keyturn starting at the same moment may create the socket between our look and our listen.
  for (let attempt = 0; attempt < 2; attempt++) {
    const holder = await askHolder(socketPath);
    if (holder.held) {
      const who = holder.pid ? `pid ${holder.pid}` : 'a process that did not say its pid';
      const stop = holder.pid ? `Ctrl-C in its terminal, or kill ${holder.pid}` : 'Ctrl-C in its terminal';
      return {
        ok: false,
        reason: `${dir}/ is in use by another Keyturn (${who}); stop it first (${stop}), or start this one in another directory`,
      };
    }
    // Nobody listens: a socket file there was left by a process that is gone. Only then is it removed,
    // so a Keyturn that has just created its own between our look and our listen keeps it.
    if (holder.stale) rmSync(socketPath, { force: true });
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(`${pid}\n`);
    });
    try {
      await listen(server, socketPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw error;
    }
    // The lock must not keep the process alive on its own.
    server.unref();
    writeFileSync(pidFile, String(pid), { mode: 0o600 });
    return {
      ok: true,
      release: async () => {
        // Closing a listening Unix socket removes its file.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (readOr(pidFile, '') === String(pid)) rmSync(pidFile, { force: true });
      },
    };
  }
  return {
    ok: false,
    reason: `${dir}/ was claimed by another Keyturn starting at the same moment; stop it first`,
  };
}

/**
 * Makes `dir` and everything under it private to its owner: directories 0700, files 0600. Run at
 * start to fix what an older version (or another umask) left readable, and again once the embedded
 * DynamoDB has created its files.
 */
export function secureStateDir(dir: string): void {
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    if ((stat.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir)) secureStateDir(path.join(dir, entry));
  } else if ((stat.mode & 0o777) !== 0o600) {
    chmodSync(dir, 0o600);
  }
}

function socketPathIn(dir: string): string {
  const absolute = path.resolve(dir, 'keyturn.sock');
  if (absolute.length <= MAX_SOCKET_PATH) return absolute;
  const relative = path.relative(process.cwd(), absolute);
  if (relative.length <= MAX_SOCKET_PATH) return relative;
  throw new Error(
    `${dir}/ is too deep a path for Keyturn's lock socket: use a state directory with a shorter path`,
  );
}

function askHolder(
  socketPath: string,
): Promise<{ held: false; stale: boolean } | { held: true; pid?: number }> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let answer = '';
    let connected = false;
    const done = () => {
      socket.destroy();
      const pid = Number.parseInt(answer, 10);
      resolve({ held: true, ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}) });
    };
    socket.setTimeout(ASK_TIMEOUT_MS, done);
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('end', done);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (connected) return done();
      socket.destroy();
      // ENOENT: no file at all. ECONNREFUSED: a socket file nobody listens on (its process died).
      // Anything else (EACCES, ENOTSOCK) is no Keyturn we can reach; listening will say what is wrong.
      resolve({ held: false, stale: error.code !== 'ENOENT' });
    });
  });
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}
