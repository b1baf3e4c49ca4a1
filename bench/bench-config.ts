import type { Config, SandboxNode } from '../src/config/types';
import { type Person, personPrincipal } from '../src/domain/person';
import type { Principal } from '../src/domain/principal';
import { testConfig } from '../test/support/fakes';

/** `U0B000001`, … : Slack users the benchmarks make up, each mapped to its own IAM user. */
export function benchUser(n: number): string {
  return `U0B${String(n).padStart(6, '0')}`;
}

export function benchPerson(n: number): Person {
  return {
    user: benchUser(n),
    identity: { kind: 'iam-user', name: `bench-${String(n).padStart(6, '0')}`, path: '/' },
    attach: 'access-role',
  };
}

export function benchPrincipal(n: number): Principal {
  return personPrincipal(benchPerson(n));
}

/**
 * The integration tests' config (prod-raspi, approver U0CAROL) with `people` more requesters, so a
 * measurement can make thousands of requests without one requester's open-grant rule refusing them,
 * and optionally a fleet of `nodes` online prod-raspi nodes.
 */
export function benchConfig(opts: { people: number; nodes?: number }): Config {
  const base = testConfig();
  const people: Record<string, Person> = { ...base.people };
  for (let n = 1; n <= opts.people; n++) people[benchUser(n)] = benchPerson(n);
  const fleet: SandboxNode[] =
    opts.nodes === undefined
      ? [...base.sandbox.fleet]
      : Array.from({ length: opts.nodes }, (_, i) => ({
          id: `mi-${(i + 1).toString(16).padStart(17, '0')}`,
          name: `raspi-${i + 1}`,
          tags: { Fleet: 'prod-raspi' },
          ping: 'Online' as const,
        }));
  return { ...base, people, sandbox: { ...base.sandbox, fleet } };
}

/** Latencies injected per call, in ms (issue 8 item 2). */
export interface LatencyProfile {
  slack: number;
  dynamodb: number;
  ssm: number;
  iam: number;
  sqs: number;
}

export const ZERO_LATENCY: LatencyProfile = { slack: 0, dynamodb: 0, ssm: 0, iam: 0, sqs: 0 };

/** Slack 150 ms, DynamoDB 10 ms, SSM 200 ms, IAM as given; SQS (not in the brief) 0. */
export function awsLatency(iam: number): LatencyProfile {
  return { slack: 150, dynamodb: 10, ssm: 200, iam, sqs: 0 };
}
