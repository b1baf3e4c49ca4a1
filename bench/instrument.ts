/** The outside services a Keyturn port or adapter reaches. `SQS` is the work queue. */
export type Service = 'IAM' | 'SSM' | 'Slack' | 'DynamoDB' | 'SQS';
export const SERVICES: readonly Service[] = ['IAM', 'SSM', 'Slack', 'DynamoDB', 'SQS'];

export interface Call {
  service: Service;
  /** The port method (`attachPolicy`) or the wire operation (`chat.postMessage`, `PutItem`). */
  operation: string;
}

/** Every outbound call, in order, so a measurement can count the calls made between two moments. */
export class CallLog {
  readonly calls: Call[] = [];

  record(service: Service, operation: string): void {
    this.calls.push({ service, operation });
  }

  /** A position to count from. */
  mark(): number {
    return this.calls.length;
  }

  since(mark: number): Call[] {
    return this.calls.slice(mark);
  }

  /** Calls per service since `mark` (every service present, zero when none). */
  countSince(mark: number): Record<Service, number> {
    const counts = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
    for (const c of this.since(mark)) counts[c.service]++;
    return counts;
  }

  /** Calls per `service:operation` since `mark`. */
  operationsSince(mark: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.since(mark)) {
      const key = `${c.service}:${c.operation}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }
}

/**
 * Wraps a port so that every method call is logged under `service` and costs `latencyMs` (slept
 * with `sleep`: real timers for the ack measurements, the virtual clock for the simulated ones)
 * before the real method runs. Non-function members pass through untouched.
 */
export function instrumentPort<T extends object>(
  port: T,
  opts: { service: Service; log: CallLog; latencyMs: number; sleep: (ms: number) => Promise<void> },
): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        opts.log.record(opts.service, String(property));
        if (opts.latencyMs > 0) await opts.sleep(opts.latencyMs);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
