import { parseArgs } from 'node:util';
import { describePolicyError, grantPolicy } from '../app/grant-policy';
import { loadConfig } from '../config/load';
import { describeDurationError, formatDuration, parseDuration } from '../domain/duration';
import { addMinutes, toIsoSeconds } from '../domain/grant';
import { type DigestCliIo, DigestUsageError, digestCommand } from './digest-cli';

const USAGE = `Usage:
  keyturn policy <target> --user <SlackUserId> --duration <30m|1h|2h30m> [--at <ISO time>]
      Prints, as JSON and nothing else on stdout, the IAM policy an approval would attach.
  keyturn digest [--date YYYY-MM-DD] [--post]
      Prints the daily digest of a local day (default: yesterday in digest.timezone) as text on stdout;
      --post also sends it to the audit channel. Reads the table named by KEYTURN_TABLE.`;

class UsageError extends Error {}

/**
 * `npx keyturn …`. Output is for pipes (stdout: the result only); everything else goes to stderr.
 * Commands that read storage (`digest`) answer with a promise of the exit code.
 */
export function runCli(argv: string[], io: DigestCliIo): number | Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === 'policy') return policyCommand(rest, io);
    if (command === 'digest') return digestCommand(rest, io).catch((error: unknown) => failed(error, io));
    io.err(
      command && command !== 'help' && command !== '--help'
        ? `Unknown command '${command}'.\n${USAGE}`
        : USAGE,
    );
    return command === 'help' || command === '--help' ? 0 : 2;
  } catch (error) {
    return failed(error, io);
  }
}

function failed(error: unknown, io: Pick<DigestCliIo, 'err'>): number {
  const usage = error instanceof UsageError || error instanceof DigestUsageError;
  io.err(usage ? `${(error as Error).message}\n${USAGE}` : `keyturn: ${(error as Error).message}`);
  return usage ? 2 : 1;
}

function policyCommand(args: string[], io: Parameters<typeof runCli>[1]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [targetName, ...extra] = positionals;
  if (!targetName || extra.length > 0) throw new UsageError('Give exactly one target.');
  if (!values.user) throw new UsageError('--user <SlackUserId> is required.');
  if (!values.duration) throw new UsageError('--duration is required (e.g. 1h).');

  const config = loadConfig({ env: io.env, cwd: io.cwd, log: io.err });
  const target = config.targets[targetName];
  if (!target)
    throw new UsageError(`No target '${targetName}'. Targets: ${Object.keys(config.targets).join(', ')}.`);
  if (!Object.hasOwn(config.people, values.user))
    throw new UsageError(
      `Slack user ${values.user} is not mapped to an AWS principal under people: in the config.`,
    );
  const minutes = parseDuration(values.duration);
  if (!minutes.ok) throw new UsageError(`--duration: ${describeDurationError(minutes.error)}.`);
  if (minutes.value > target.maxDurationMinutes) {
    throw new UsageError(
      `--duration: ${targetName} allows at most ${formatDuration(target.maxDurationMinutes)}.`,
    );
  }
  let at = io.now();
  if (values.at) {
    at = new Date(values.at);
    if (Number.isNaN(at.getTime()))
      throw new UsageError(`--at: '${values.at}' is not an ISO time like 2026-11-23T14:05:00Z.`);
  }
  const startsAt = toIsoSeconds(at);
  const policy = grantPolicy(config, { startsAt, expiresAt: addMinutes(startsAt, minutes.value) }, target);
  if (!policy.ok) throw new Error(describePolicyError(policy.error));
  io.out(JSON.stringify(policy.value, null, 2));
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { user: { type: 'string' }, duration: { type: 'string' }, at: { type: 'string' } },
  });
}

/** The process entry point, shared by `npx keyturn` (bin/keyturn.js) and `tsx src/main/cli.ts`. */
export function runFromProcess(): void {
  // `digest` reads storage, so runCli may answer with a promise of the exit code.
  void Promise.resolve(
    runCli(process.argv.slice(2), {
      env: process.env,
      cwd: process.cwd(),
      now: () => new Date(),
      out: (s) => process.stdout.write(`${s}\n`),
      err: (s) => process.stderr.write(`${s}\n`),
    }),
  ).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) runFromProcess();
