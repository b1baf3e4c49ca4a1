import type { Config } from '../config/types';
import type { AccessControl } from '../ports/access-control';
import type { Chat } from '../ports/chat';
import type { Clock } from '../ports/clock';
import type { Fleet } from '../ports/fleet';
import type { GrantStore } from '../ports/grant-store';
import type { Logger } from '../ports/logger';
import type { WorkQueue } from '../ports/work-queue';

/** Everything a use case may touch. Composition roots build it once; tests build it from fakes. */
export interface Deps {
  config: Config;
  grants: GrantStore;
  queue: WorkQueue;
  access: AccessControl;
  fleet: Fleet;
  chat: Chat;
  clock: Clock;
  logger: Logger;
  newId: () => string;
  /** Bounds for waiting until IAM answers "allowed" after an attach (FACTS.md: no documented propagation time). */
  readiness?: { maxWaitMs: number; firstDelayMs: number };
}
