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
import {
  type CommandProgress,
  type CommandRunner,
  CommandRunnerError,
  type InvocationResult,
  type InvocationStatus,
  RUN_SHELL_DOCUMENT,
  type SendCommandRequest,
} from '../../ports/command-runner';
import { invokedAfter } from './ssm-timestamp';

/** ListCommands / ListCommandInvocations page maximum. */
const PAGE_SIZE = 50;
/** CommandStatus values after which nothing about the command changes any more. */
const FINAL_COMMAND_STATUSES = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** AWS-RunShellScript's one plugin: its name is part of the CloudWatch Logs stream names. */
const PLUGIN = 'aws-runShellScript';

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

  return {
    simulated: false,

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

    async progress(commandId): Promise<CommandProgress> {
      const command = await listCommand(commandId);
      const invocations: InvocationStatus[] = [];
      let NextToken: string | undefined;
      do {
        const page = await call('ListCommandInvocations', () =>
          ssm.send(
            new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: PAGE_SIZE, NextToken }),
          ),
        );
        for (const inv of page.CommandInvocations ?? []) {
          const status = toInvocationStatus(inv);
          if (status) invocations.push(status);
        }
        NextToken = page.NextToken || undefined;
      } while (NextToken);
      return {
        done: command?.Status !== undefined && FINAL_COMMAND_STATUSES.has(command.Status),
        ...(command?.TargetCount !== undefined ? { targetCount: command.TargetCount } : {}),
        invocations,
      };
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

function toInvocationStatus(inv: CommandInvocation): InvocationStatus | undefined {
  if (!inv.InstanceId) return undefined;
  return {
    nodeId: inv.InstanceId,
    ...(inv.InstanceName ? { nodeName: inv.InstanceName } : {}),
    status: inv.Status ?? 'Pending',
    ...(inv.StatusDetails ? { statusDetails: inv.StatusDetails } : {}),
  };
}

function toResult(
  commandId: string,
  nodeId: string,
  res: GetCommandInvocationCommandOutput,
): InvocationResult {
  const group = res.CloudWatchOutputConfig?.CloudWatchOutputEnabled
    ? res.CloudWatchOutputConfig.CloudWatchLogGroupName
    : undefined;
  // SSM sends empty strings for output URLs when S3 output is off: `||`, not `??`.
  const where = (url: string | undefined, stream: 'stdout' | 'stderr') =>
    url || (group ? `CloudWatch Logs ${group} › ${commandId}/${nodeId}/${PLUGIN}/${stream}` : undefined);
  const stdoutLocation = where(res.StandardOutputUrl, 'stdout');
  const stderrLocation = where(res.StandardErrorUrl, 'stderr');
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
