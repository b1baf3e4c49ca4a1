/**
 * The `InvokedAfter` filter value for DescribeSessions and ListCommands: whole seconds, as in AWS's
 * examples (`2024-07-07T00:00:00Z`). SSM documents no milliseconds there, so they are dropped; rounding
 * down keeps every session or command at or after the given instant in the answer.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SessionFilter.html
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CommandFilter.html
 */
export function invokedAfter(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
