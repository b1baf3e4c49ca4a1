/** Time, injected so domain and use cases never read the system clock and tests can travel. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}
