import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { CreatePolicyCommand, CreateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { accessRoleStacks, type CfnResource } from '../../deploy/stack';
import type { Config } from '../../src/config/types';
import { boundaryArn } from '../../src/domain/boundary';

/**
 * moto_server (a local AWS emulator whose IAM validates policy documents and stores roles,
 * boundaries and trust policies) on 127.0.0.1, on a free port of 4500–4599, for one test file.
 * jest.config.js leaves the moto suite out when moto_server is not on PATH, unless
 * KEYTURN_MOTO=required, which .ci/run sets: then a missing moto_server fails here, loudly.
 */
export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

const PORTS = { first: 4500, last: 4599 };

export function findMotoServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'moto_server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  // Start at a pid-dependent port so parallel workers rarely race for the same one.
  const span = PORTS.last - PORTS.first + 1;
  const offset = process.pid % span;
  for (let i = 0; i < span; i++) {
    const port = PORTS.first + ((offset + i) % span);
    if (await portIsFree(port)) return port;
  }
  throw new Error(`no free port in ${PORTS.first}-${PORTS.last} for moto_server`);
}

async function waitUntilServing(endpoint: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto_server did not answer at ${endpoint} within 30 s:\n${log()}`);
}

export async function startMoto(): Promise<Moto> {
  const binary = findMotoServer();
  if (!binary) {
    throw new Error(
      'moto_server is not on PATH, and KEYTURN_MOTO=required asks for the moto suite: install it (pip install "moto[server]")',
    );
  }
  const port = await freePort();
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: stop() ends moto and any worker it forks, and nothing else.
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid, 'SIGTERM');
    const grace = setTimeout(() => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, 5_000);
    await exited;
    clearTimeout(grace);
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  try {
    await waitUntilServing(endpoint, child, () => output);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, stop };
}

/**
 * What CloudFormation would make of `config`'s access-role stack in its account (deploy/stack.ts
 * accessRoleStacks): the boundary, then a role per person carrying it.
 */
export async function createAccessRoles(iam: IAMClient, config: Config): Promise<void> {
  const resources = Object.values(accessRoleStacks(config).main) as CfnResource[];
  for (const r of resources.filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')) {
    await iam.send(
      new CreatePolicyCommand({
        PolicyName: r.Properties.ManagedPolicyName as string,
        Path: r.Properties.Path as string,
        PolicyDocument: JSON.stringify(r.Properties.PolicyDocument),
      }),
    );
  }
  for (const r of resources.filter((r) => r.Type === 'AWS::IAM::Role')) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: r.Properties.RoleName as string,
        Path: r.Properties.Path as string,
        Description: r.Properties.Description as string,
        AssumeRolePolicyDocument: JSON.stringify(r.Properties.AssumeRolePolicyDocument),
        // In the stack it is { Ref: KeyturnAccessBoundary }, which CloudFormation resolves to the ARN.
        PermissionsBoundary: boundaryArn(config.aws),
        MaxSessionDuration: r.Properties.MaxSessionDuration as number,
      }),
    );
  }
}
