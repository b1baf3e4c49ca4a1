import {
  type Command,
  type CommandInvocation,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { classifyInvocation } from '../../domain/command-run';
import {
  type CommandProgress,
  type CommandRunner,
  CommandRunnerError,
  type InvocationResult,
  type InvocationStatus,
  RUN_SHELL_DOCUMENT,
  type SendCommandRequest,
} from '../../ports/command-runner';
import { ACCOUNT_UNREACHABLE } from '../../ports/aws-places';
import { AccountUnreachableError } from './assumed-role-credentials';
import { invokedAfter } from './ssm-timestamp';

/** ListCommands / ListCommandInvocations page maximum. */
const PAGE_SIZE = 50;
/** CommandStatus values after which nothing about the command changes any more. */
const FINAL_COMMAND_STATUSES = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** AWS-RunShellScript's one plugin: its name is part of the CloudWatch Logs stream names. */
const PLUGIN = 'aws-runShellScript';
/**
 * ListCommandInvocations with Details gives each plugin's `Output`: stdout, then stderr after this
 * line, the whole cut to 2,500 characters with a marker after each cut stream (amazon-ssm-agent's
 * TruncateOutput). Output that may have been cut is read again whole with GetCommandInvocation.
 */
const LISTED_OUTPUT_LIMIT = 2_500;
const STDERR_SEPARATOR = '\n----------ERROR-------\n';
const CUT_MARKERS = ['\n---Output truncated---', '\n---Error truncated----'];
/** Commands whose last listing is kept, to answer a poll where nothing has completed since without listing again. */
const LISTINGS_KEPT = 50;

export interface SsmCommandRunnerOptions {
  /**
   * The client SendCommand goes through. SendCommand is not idempotent (it takes no client token), so
   * the composition root passes one with `maxAttempts: 1`: an SDK retry after a lost answer would run
   * the snippet twice. A throttled send is retried by the worker job instead (CommandRunnerError
   * `sent: 'no'`). Defaults to `ssm`, for tests.
   */
  sendClient?: SSMClient;
}

/** Run Command on Systems Manager. Everything but SendCommand reads, so those keep the SDK's retries. */
export function createSsmCommandRunner(ssm: SSMClient, opts: SsmCommandRunnerOptions = {}): CommandRunner {
  const sendClient = opts.sendClient ?? ssm;

  async function listCommand(commandId: string): Promise<Command | undefined> {
    const page = await call('ListCommands', () =>
      ssm.send(new ListCommandsCommand({ CommandId: commandId })),
    );
    return page.Commands?.[0];
  }

  /** The last listing per command, with the ListCommands status and completed count it was read at. */
  const listings = new Map<string, { at: string; invocations: InvocationStatus[] }>();

  async function listInvocations(commandId: string): Promise<InvocationStatus[]> {
    const invocations: InvocationStatus[] = [];
    let NextToken: string | undefined;
    do {
      const page = await call('ListCommandInvocations', () =>
        ssm.send(
          new ListCommandInvocationsCommand({
            CommandId: commandId,
            Details: true,
            MaxResults: PAGE_SIZE,
            NextToken,
          }),
        ),
      );
      for (const inv of page.CommandInvocations ?? []) {
        const status = toInvocationStatus(commandId, inv);
        if (status) invocations.push(status);
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return invocations;
  }

  return {
    async sendCommand(request) {
      const res = await call('SendCommand', () =>
        sendClient.send(new SendCommandCommand(sendInput(request))),
      );
      const commandId = res.Command?.CommandId;
      if (!commandId)
        throw new CommandRunnerError(
          'InvalidResponse',
          'SSM SendCommand answered without a command id',
          'unknown',
          false,
        );
      const expiresAt = res.Command?.ExpiresAfter;
      return { commandId, ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) };
    },

    async progress(commandId, opts = {}): Promise<CommandProgress> {
      const command = await listCommand(commandId);
      const done = command?.Status !== undefined && FINAL_COMMAND_STATUSES.has(command.Status);
      const counts = {
        ...(command?.TargetCount !== undefined ? { targetCount: command.TargetCount } : {}),
        ...(command?.CompletedCount !== undefined ? { completedCount: command.CompletedCount } : {}),
        ...(command ? { comment: command.Comment ?? '' } : {}),
      };
      if (opts.invocations === 'when-done' && !done && command?.CompletedCount !== undefined)
        return { done, ...counts, invocations: [] };
      // A poll where no node completed since the last listing needs no listing: SSM's completed count
      // moves with every node that reaches a final status.
      const at =
        command?.CompletedCount === undefined ? undefined : `${command.Status}#${command.CompletedCount}`;
      const kept = listings.get(commandId);
      const invocations =
        at !== undefined && kept?.at === at ? kept.invocations : await listInvocations(commandId);
      listings.delete(commandId);
      if (at !== undefined && !done) {
        listings.set(commandId, { at, invocations });
        if (listings.size > LISTINGS_KEPT) listings.delete(listings.keys().next().value as string);
      }
      return { done, ...counts, invocations };
    },

    async result(commandId, nodeId): Promise<InvocationResult> {
      const res = await call('GetCommandInvocation', () =>
        ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: nodeId })),
      );
      return toResult(commandId, nodeId, res);
    },

    async findCommand(comment, since) {
      let NextToken: string | undefined;
      do {
        const page = await call('ListCommands', () =>
          ssm.send(
            new ListCommandsCommand({
              Filters: [
                { key: 'InvokedAfter', value: invokedAfter(since) },
                { key: 'DocumentName', value: RUN_SHELL_DOCUMENT },
              ],
              MaxResults: PAGE_SIZE,
              NextToken,
            }),
          ),
        );
        const found = page.Commands?.find((c) => c.Comment === comment && c.CommandId);
        if (found?.CommandId) return found.CommandId;
        NextToken = page.NextToken || undefined;
      } while (NextToken);
      return undefined;
    },
  };
}

/** The SendCommand input for a request; exported for the adapter test's exact-shape assertions. */
export function sendInput(request: SendCommandRequest): SendCommandCommandInput {
  const { output } = request;
  return {
    DocumentName: request.documentName,
    // One target per tag: SSM runs the command only on nodes that carry all of them.
    Targets: Object.entries(request.targetTags).map(([key, value]) => ({
      Key: `tag:${key}`,
      Values: [value],
    })),
    Parameters: {
      commands: [...request.commands],
      ...(request.executionTimeoutSeconds !== undefined
        ? { executionTimeout: [String(request.executionTimeoutSeconds)] }
        : {}),
    },
    TimeoutSeconds: request.deliveryTimeoutSeconds,
    ...(request.maxConcurrency !== undefined ? { MaxConcurrency: request.maxConcurrency } : {}),
    ...(request.maxErrors !== undefined ? { MaxErrors: request.maxErrors } : {}),
    Comment: request.comment,
    ...(output?.s3Bucket ? { OutputS3BucketName: output.s3Bucket } : {}),
    ...(output?.s3Bucket && output.s3KeyPrefix ? { OutputS3KeyPrefix: output.s3KeyPrefix } : {}),
    ...(output?.cloudWatchLogGroup
      ? {
          CloudWatchOutputConfig: {
            CloudWatchOutputEnabled: true,
            CloudWatchLogGroupName: output.cloudWatchLogGroup,
          },
        }
      : {}),
  };
}

function toInvocationStatus(commandId: string, inv: CommandInvocation): InvocationStatus | undefined {
  if (!inv.InstanceId) return undefined;
  const status: InvocationStatus = {
    nodeId: inv.InstanceId,
    ...(inv.InstanceName ? { nodeName: inv.InstanceName } : {}),
    status: inv.Status ?? 'Pending',
    ...(inv.StatusDetails ? { statusDetails: inv.StatusDetails } : {}),
  };
  const result = listedResult(commandId, inv, status);
  return result ? { ...status, result } : status;
}

/**
 * A node's final result from a detailed listing, when the listing has all of it: one plugin (the
 * shell script), output not cut; a node that never ran has no plugin output at all. Anything else is
 * left to GetCommandInvocation.
 */
function listedResult(
  commandId: string,
  inv: CommandInvocation,
  status: InvocationStatus,
): InvocationResult | undefined {
  const outcome = classifyInvocation(status.status, status.statusDetails);
  if (outcome === undefined) return undefined;
  const plugins = inv.CommandPlugins;
  // No plugin list at all: the listing was not detailed.
  if (plugins === undefined) return undefined;
  if (plugins.length === 0) {
    if (outcome !== 'undeliverable' && outcome !== 'delivery-timed-out') return undefined;
    // Never delivered: GetCommandInvocation would say ResponseCode -1 and no output (FACTS.md).
    return { ...status, exitCode: -1, stdout: '', stderr: '' };
  }
  const plugin = plugins[0];
  if (plugins.length > 1 || !plugin) return undefined;
  const output = plugin.Output ?? '';
  if (output.length >= LISTED_OUTPUT_LIMIT || CUT_MARKERS.some((m) => output.includes(m))) return undefined;
  const split = output.indexOf(STDERR_SEPARATOR);
  // The separator twice: stdout itself printed it, and the streams cannot be told apart here.
  if (split >= 0 && output.indexOf(STDERR_SEPARATOR, split + 1) >= 0) return undefined;
  const { stdoutLocation, stderrLocation } = locations(
    commandId,
    status.nodeId,
    plugin.StandardOutputUrl,
    plugin.StandardErrorUrl,
    inv.CloudWatchOutputConfig,
  );
  return {
    ...status,
    ...(plugin.ResponseCode !== undefined ? { exitCode: plugin.ResponseCode } : {}),
    ...(plugin.ResponseStartDateTime ? { startedAt: plugin.ResponseStartDateTime.toISOString() } : {}),
    ...(plugin.ResponseFinishDateTime ? { endedAt: plugin.ResponseFinishDateTime.toISOString() } : {}),
    stdout: split < 0 ? output : output.slice(0, split),
    stderr: split < 0 ? '' : output.slice(split + STDERR_SEPARATOR.length),
    ...(stdoutLocation ? { stdoutLocation } : {}),
    ...(stderrLocation ? { stderrLocation } : {}),
  };
}

/** Where the full output is: S3 URLs when S3 output is on, else CloudWatch Logs streams when that is. */
function locations(
  commandId: string,
  nodeId: string,
  stdoutUrl: string | undefined,
  stderrUrl: string | undefined,
  cloudWatch: { CloudWatchOutputEnabled?: boolean; CloudWatchLogGroupName?: string } | undefined,
): { stdoutLocation?: string; stderrLocation?: string } {
  const group = cloudWatch?.CloudWatchOutputEnabled ? cloudWatch.CloudWatchLogGroupName : undefined;
  // SSM sends empty strings for output URLs when S3 output is off: `||`, not `??`.
  const where = (url: string | undefined, stream: 'stdout' | 'stderr') =>
    url || (group ? `CloudWatch Logs ${group} › ${commandId}/${nodeId}/${PLUGIN}/${stream}` : undefined);
  const stdoutLocation = where(stdoutUrl, 'stdout');
  const stderrLocation = where(stderrUrl, 'stderr');
  return { ...(stdoutLocation ? { stdoutLocation } : {}), ...(stderrLocation ? { stderrLocation } : {}) };
}

function toResult(
  commandId: string,
  nodeId: string,
  res: GetCommandInvocationCommandOutput,
): InvocationResult {
  const { stdoutLocation, stderrLocation } = locations(
    commandId,
    nodeId,
    res.StandardOutputUrl,
    res.StandardErrorUrl,
    res.CloudWatchOutputConfig,
  );
  return {
    nodeId,
    status: res.Status ?? 'Pending',
    ...(res.StatusDetails ? { statusDetails: res.StatusDetails } : {}),
    ...(res.ResponseCode !== undefined ? { exitCode: res.ResponseCode } : {}),
    ...(res.ExecutionStartDateTime ? { startedAt: res.ExecutionStartDateTime } : {}),
    ...(res.ExecutionEndDateTime ? { endedAt: res.ExecutionEndDateTime } : {}),
    stdout: res.StandardOutputContent ?? '',
    stderr: res.StandardErrorContent ?? '',
    ...(stdoutLocation ? { stdoutLocation } : {}),
    ...(stderrLocation ? { stderrLocation } : {}),
    comment: res.Comment ?? '',
  };
}

async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw toRunnerError(operation, e);
  }
}

/**
 * SDK errors → CommandRunnerError. A 4xx answer means SSM looked at the request and refused it, so
 * nothing runs; throttling is such a refusal that may work later. Anything else (a 5xx, a timeout, a
 * reset connection, no answer at all) leaves open whether SSM took the command.
 */
export function toRunnerError(operation: string, e: unknown): CommandRunnerError {
  // No credentials for the account: the SDK resolves them before it signs, so nothing reached SSM and
  // nothing runs. Retryable: STS, or the grantor role's deploy, may be fixed by the next attempt.
  if (e instanceof AccountUnreachableError) {
    // Its sentence as it is (which account, which role, what to check), as the IAM adapter does.
    return new CommandRunnerError(ACCOUNT_UNREACHABLE, e.message, 'no', true, { cause: e });
  }
  const error = e as {
    name?: unknown;
    message?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const code = typeof error?.name === 'string' ? error.name : 'Unknown';
  const status = error?.$metadata?.httpStatusCode;
  const message = `SSM ${operation} failed with ${code}${typeof error?.message === 'string' && error.message ? `: ${error.message}` : ''}`;
  const throttled = /throttl|toomanyrequests|rate ?exceeded|ratelimit/i.test(code) || status === 429;
  if (throttled) return new CommandRunnerError(code, message, 'no', true, { cause: e });
  const refused = error?.$fault === 'client' || (typeof status === 'number' && status >= 400 && status < 500);
  return new CommandRunnerError(code, message, refused ? 'no' : 'unknown', !refused, { cause: e });
}
