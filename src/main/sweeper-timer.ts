import type { Deps } from '../app/deps';
import { sweep } from '../app/sweep';

/** Lambda runs the sweeper on a schedule; locally a timer does, never two at once in this process. */
export function startSweeper(deps: Deps, everyMs: number): () => Promise<void> {
  let runs = 0;
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    runs++;
    running = sweep(deps, { reconcile: runs % RECONCILE_EVERY === 1 })
      .catch((error: unknown) => deps.logger.error({ err: (error as Error).message }, 'sweep failed'))
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Listing every /keyturn/ policy costs IAM calls: once every ten sweeps is enough to catch orphans. */
const RECONCILE_EVERY = 10;
