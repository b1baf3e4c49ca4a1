import {
  DescribeInstanceInformationCommand,
  type DescribeSessionsRequest,
  DescribeSessionsCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  type Session,
  type SSMClient,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import type { ManagedNode } from '../../domain/node';
import type { Fleet, SessionInfo } from '../../ports/fleet';
import { AccountUnreachableError } from './assumed-role-credentials';
import { invokedAfter } from './ssm-timestamp';

/** The API maximum; the default page is 10 (FACTS.md), which turns a 200-node fleet into 20 calls. */
const PAGE_SIZE = 50;
/** DescribeSessions' maximum page. */
const SESSIONS_PAGE_SIZE = 200;

/** The SSM fleet, plus what only the AWS adapter offers so far. */
export interface SsmFleet extends Fleet {
  /**
   * Ended sessions started after `afterIso` (DescribeSessions State=History, which keeps 30 days;
   * filter InvokedAfter), all pages. For reconciling sessions that ended without an API call (`exit`).
   */
  sessionsSince(afterIso: string): Promise<SessionInfo[]>;
}

/** Fleet on Systems Manager's managed-node inventory and Session Manager. */
export function createSsmFleet(ssm: SSMClient): SsmFleet {
  async function describeSessions(
    input: Pick<DescribeSessionsRequest, 'State' | 'Filters'>,
  ): Promise<SessionInfo[]> {
    const sessions: SessionInfo[] = [];
    let NextToken: string | undefined;
    try {
      do {
        const page = await ssm.send(
          new DescribeSessionsCommand({ ...input, MaxResults: SESSIONS_PAGE_SIZE, NextToken }),
        );
        for (const session of page.Sessions ?? []) {
          const info = toSessionInfo(session);
          if (info) sessions.push(info);
        }
        NextToken = page.NextToken || undefined;
      } while (NextToken);
    } catch (e) {
      throw ssmError('DescribeSessions', e);
    }
    return sessions;
  }

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
        throw ssmError('DescribeInstanceInformation', e);
      }
      return [...nodes.values()];
    },

    activeSessions(filter) {
      // SessionFilter is the one SSM filter shape spelled in lower case: `key` / `value`.
      return describeSessions({
        State: 'Active',
        ...(filter?.owner ? { Filters: [{ key: 'Owner', value: filter.owner }] } : {}),
      });
    },

    sessionsSince(afterIso) {
      // SessionFilter is the one SSM filter shape spelled in lower case: `key` / `value`.
      return describeSessions({
        State: 'History',
        Filters: [{ key: 'InvokedAfter', value: invokedAfter(afterIso) }],
      });
    },

    async terminateSession(SessionId) {
      try {
        await ssm.send(new TerminateSessionCommand({ SessionId }));
      } catch (e) {
        throw ssmError('TerminateSession', e);
      }
    },
  };
}

/**
 * The Fleet port has no error type yet; keep the SDK error as the cause, not in the signature. A member
 * account Keyturn could not get credentials for leaves as it is: its `code` is `AccountUnreachable`
 * (src/ports/aws-places.ts) and its message a sentence naming the account and the role to check.
 */
function ssmError(operation: string, e: unknown): Error {
  if (e instanceof AccountUnreachableError) return e;
  const code = e instanceof Error ? e.name : 'Unknown';
  return new Error(`SSM ${operation} failed with ${code}`, { cause: e });
}

function toNode(info: InstanceInformation): ManagedNode | undefined {
  if (!info.InstanceId) return undefined;
  const name = info.Name || info.ComputerName;
  return { id: info.InstanceId, ...(name ? { name } : {}), ping: toPing(info.PingStatus) };
}

function toPing(status: string | undefined): ManagedNode['ping'] {
  return status === 'Online' || status === 'ConnectionLost' || status === 'Inactive' ? status : 'Unknown';
}

/** Only fields SSM sent are set, so a missing EndDate stays absent rather than undefined. */
function toSessionInfo(session: Session): SessionInfo | undefined {
  if (!session.SessionId) return undefined;
  const info: SessionInfo = {
    id: session.SessionId,
    // Both are always present in practice; an empty owner matches no principal, so it is never ended by mistake.
    owner: session.Owner ?? '',
    target: session.Target ?? '',
  };
  if (session.StartDate) info.startedAt = session.StartDate.toISOString();
  if (session.EndDate) info.endedAt = session.EndDate.toISOString();
  if (session.DocumentName) info.document = session.DocumentName;
  if (session.Status) info.status = session.Status;
  // SSM sends both keys, empty when that kind of logging is off: `||`, not `??`.
  const outputUrl = session.OutputUrl?.S3OutputUrl || session.OutputUrl?.CloudWatchOutputUrl;
  if (outputUrl) info.outputUrl = outputUrl;
  return info;
}
