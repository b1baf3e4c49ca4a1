import {
  DescribeInstanceInformationCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { ManagedNode } from '../../domain/node';
import type { Fleet } from '../../ports/fleet';

/** The API maximum; the default page is 10 (FACTS.md), which turns a 200-node fleet into 20 calls. */
const PAGE_SIZE = 50;

/** Fleet on Systems Manager's managed-node inventory. */
export function createSsmFleet(ssm: SSMClient): Fleet {
  return {
    async nodesTagged(tags) {
      // Tag filters cannot be combined with other filter kinds (FACTS.md), so ping status is read
      // from the answer rather than filtered on. SSM ANDs the tag filters: a node must carry them all.
      const Filters: InstanceInformationStringFilter[] = Object.entries(tags).map(([key, value]) => ({
        Key: `tag:${key}`,
        Values: [value],
      }));
      const nodes = new Map<string, ManagedNode>();
      let NextToken: string | undefined;
      try {
        do {
          const page = await ssm.send(
            new DescribeInstanceInformationCommand({
              ...(Filters.length > 0 ? { Filters } : {}),
              MaxResults: PAGE_SIZE,
              NextToken,
            }),
          );
          for (const info of page.InstanceInformationList ?? []) {
            const node = toNode(info);
            // Keyed by id: a node re-registering between pages must not be offered twice.
            if (node) nodes.set(node.id, node);
          }
          NextToken = page.NextToken || undefined;
        } while (NextToken);
      } catch (e) {
        // The Fleet port has no error type yet; keep the SDK error as the cause, not in the signature.
        const code = e instanceof Error ? e.name : 'Unknown';
        throw new Error(`SSM DescribeInstanceInformation failed with ${code}`, { cause: e });
      }
      return [...nodes.values()];
    },
  };
}

function toNode(info: InstanceInformation): ManagedNode | undefined {
  if (!info.InstanceId) return undefined;
  const name = info.Name || info.ComputerName;
  return { id: info.InstanceId, ...(name ? { name } : {}), ping: toPing(info.PingStatus) };
}

function toPing(status: string | undefined): ManagedNode['ping'] {
  return status === 'Online' || status === 'ConnectionLost' || status === 'Inactive' ? status : 'Unknown';
}
