import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WebClient } from '@slack/web-api';
import { createDynamoAnomalyLog } from '../adapters/dynamodb/anomaly-log';
import { createDynamoDigestReader } from '../adapters/dynamodb/digest-reader';
import { createDynamoSessionStore } from '../adapters/dynamodb/session-store';
import { createSlackSessionChat } from '../adapters/slack/slack-session-chat';
import type { Deps } from '../app/deps';
import type { Place, ServedPlaces } from '../domain/place';
import type { GrantStore } from '../ports/grant-store';

/**
 * Session tracking and the daily digest (issue 5), on Keyturn's table and Slack client: the same
 * wiring for the local server, Lambda and the CLI.
 */
export function sessionPorts(opts: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  grants: GrantStore;
  client: WebClient;
  /** Keyturn's own account and region (config `aws`): where sessions recorded without a place are. */
  home: Place;
  served: ServedPlaces;
}): Pick<Deps, 'sessions' | 'sessionChat' | 'anomalies' | 'digestData'> {
  const table = { documentClient: opts.documentClient, tableName: opts.tableName };
  return {
    sessions: createDynamoSessionStore({ ...table, home: opts.home }),
    sessionChat: createSlackSessionChat({ client: opts.client, served: opts.served }),
    anomalies: createDynamoAnomalyLog(table),
    digestData: createDynamoDigestReader(table),
  };
}
