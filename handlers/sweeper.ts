import { sweeperHandler } from '../src/main/lambda';

/** Schedule → the sweeper: expire, warn, lapse, re-drive and (every 10 minutes) reconcile. */
export const handler = sweeperHandler();
