import type { Config } from '../config/types';
import type { AnomalyLog } from '../ports/anomaly-log';
import type { AckChat, Chat } from '../ports/chat';
import type { Clock } from '../ports/clock';
import type { CommandRunRecords, CommandRunStore } from '../ports/command-run-store';
import type { AwsPlaces } from '../ports/aws-places';
import type { DigestData } from '../ports/digest-data';
import type { GrantStore } from '../ports/grant-store';
import type { Logger } from '../ports/logger';
import type { RunChat } from '../ports/run-chat';
import type { SessionChat } from '../ports/session-chat';
import type { SessionStore } from '../ports/session-store';
import type { WorkQueue } from '../ports/work-queue';

/** Everything a use case may touch. Composition roots build it once; tests build it from fakes. */
export interface Deps {
  config: Config;
  grants: GrantStore;
  queue: WorkQueue;
  /** IAM, the fleet and Run Command in every account and region Keyturn serves (src/ports/aws-places.ts). */
  aws: AwsPlaces;
  chat: Chat;
  clock: Clock;
  logger: Logger;
  /** Session tracking and the daily digest (issue 5). */
  sessions: SessionStore;
  sessionChat: SessionChat;
  anomalies: AnomalyLog;
  digestData: DigestData;
  newId: () => string;
  /** Bounds for waiting until IAM answers "allowed" after an attach (FACTS.md: no documented propagation time). */
  readiness?: { maxWaitMs: number; firstDelayMs: number };
  /** Run Command (issue 4): the CommandRun store and the run messages in Slack (SendCommand is under `aws`). */
  runs: CommandRunStore;
  runChat: RunChat;
  /**
   * How long one track-run job polls SSM before handing over to a fresh job (a worker invocation has a
   * time limit), and its backoff. Defaults in src/app/track-run.ts.
   */
  runPolling?: { budgetMs: number; firstDelayMs: number; maxDelayMs: number };
}

/**
 * What the Slack listeners' use cases may touch: validate, one conditional write, enqueue, answer
 * (DESIGN.md "Slack rules"). No IAM, no SSM, no session or digest store: the slack Lambda is built
 * from this alone (src/main/lambda-slack.ts), so its bundle carries none of their clients.
 */
export type AckDeps = Pick<Deps, 'config' | 'grants' | 'queue' | 'clock' | 'logger' | 'newId'> & {
  /** What the listeners post themselves; the rest of Slack is the worker's (src/ports/chat.ts). */
  chat: AckChat;
  /** Only whether AWS is simulated (the sandbox), for the run's messages; SendCommand is the worker's. */
  aws: Pick<AwsPlaces, 'simulated'>;
  /** A run's own record: the listeners create runs and decide them; node results are the worker's. */
  runs: CommandRunRecords;
};
