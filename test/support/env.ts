/** The variables that point the AWS SDK and Keyturn's clients somewhere: suites that set them put them back. */
export const AWS_ENV = [
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_PROFILE',
  'KEYTURN_AWS_MAX_ATTEMPTS',
] as const;

/** Remembers `names` as they are now; `restore` puts each back, unsetting those that were unset. */
export function savedEnv(names: readonly string[]): { restore(): void } {
  const saved = names.map((name) => [name, process.env[name]] as const);
  return {
    restore() {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
