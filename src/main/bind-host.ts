import { BlockList, isIP } from 'node:net';

type Env = Record<string, string | undefined>;

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for names and addresses only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackAddress(host: string): boolean {
  if (host === 'localhost') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)?.[1];
  const address = mapped ?? host;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The address the local server listens on: `HOST`, default 127.0.0.1. A non-loopback `HOST` (0.0.0.0,
 * a LAN address, a host name) is refused unless `KEYTURN_ALLOW_REMOTE=1` is set too: the sandbox acts
 * as anyone in its workspace, and local mode's worker acts with the operator's AWS credentials, so
 * answering other machines has to be a decision (a container whose port is published, a tunnel on
 * another host), never a leftover HOST from another project. Two variables, because HOST alone is
 * set by many tools and shells for their own purposes.
 */
export function bindHost(env: Env): { ok: true; host: string } | { ok: false; reason: string } {
  const host = env.HOST?.trim() || '127.0.0.1';
  if (isLoopbackAddress(host) || env.KEYTURN_ALLOW_REMOTE === '1') return { ok: true, host };
  return {
    ok: false,
    reason:
      `HOST is ${host}, which other machines can reach, and KEYTURN_ALLOW_REMOTE is not 1. ` +
      'Unset HOST to listen on 127.0.0.1 only (a tunnel or a published container port reaches that too), ' +
      'or set KEYTURN_ALLOW_REMOTE=1 as well if Keyturn must answer other machines',
  };
}
