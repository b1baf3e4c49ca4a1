/** The one document Keyturn runs: a shell script on Linux nodes (FACTS.md "Run Command"). */
export const RUN_SHELL_DOCUMENT = 'AWS-RunShellScript';

export interface SendCommandRequest {
  documentName: typeof RUN_SHELL_DOCUMENT;
  /** Every tag must match: one `tag:<key>` target per tag, so SSM resolves the same nodes a grant covers. */
  targetTags: Readonly<Record<string, string>>;
  /** `Parameters.commands`: the rendered snippet, one entry. */
  commands: readonly string[];
  /** `TimeoutSeconds`: how long SSM waits for a node to start the command. */
  deliveryTimeoutSeconds: number;
  /** `Parameters.executionTimeout`; the document's default when absent. */
  executionTimeoutSeconds?: number;
  maxConcurrency?: string;
  maxErrors?: string;
  /** At most 100 characters; names the run and the requester. */
  comment: string;
  /** Also write the full output to S3 and/or CloudWatch Logs (config `commandOutput`). */
  output?: { s3Bucket?: string; s3KeyPrefix?: string; cloudWatchLogGroup?: string };
}

export interface SentCommand {
  commandId: string;
  /** When SSM gives up on the command (`ExpiresAfter`), when it says. */
  expiresAt?: string;
}

/** Where SSM stands on one node. `status` and `statusDetails` are SSM's own words. */
export interface InvocationStatus {
  nodeId: string;
  nodeName?: string;
  status: string;
  statusDetails?: string;
  /**
   * The node's final result, when the listing already carries it whole (ListCommandInvocations with
   * Details gives each node's output, cut at 2,500 characters): then `result()` need not be asked.
   * Absent while the node runs, or when SSM cut its output.
   */
  result?: InvocationResult;
}

export interface CommandProgress {
  /** The command as a whole reached a final status: no more invocations will appear or change. */
  done: boolean;
  /** Nodes SSM resolved the targets to, once it has. */
  targetCount?: number;
  /** Nodes that reached a final status, as SSM counts them (ListCommands `CompletedCount`), when it says. */
  completedCount?: number;
  /** Every invocation so far; empty while the command runs when asked for `invocations: 'when-done'`. */
  invocations: InvocationStatus[];
  /** The command's Comment ('' when it has none), which names the run that sent it; absent while SSM does not list the command. */
  comment?: string;
}

/**
 * `when-done`: list the invocations only once the command is done (when SSM gives its completed
 * count), for a caller that reports every node at the end anyway: a poll is then one call.
 */
export interface ProgressOptions {
  invocations?: 'always' | 'when-done';
}

/** A node's final result, as GetCommandInvocation reports it. */
export interface InvocationResult extends InvocationStatus {
  /** `ResponseCode`; -1 = never ran. */
  exitCode?: number;
  startedAt?: string;
  endedAt?: string;
  /** The first 24,000 characters of stdout and 8,000 of stderr (FACTS.md). */
  stdout: string;
  stderr: string;
  /** Where the full output is, when output is configured: an S3 URL, or a CloudWatch Logs group and stream. */
  stdoutLocation?: string;
  stderrLocation?: string;
  /** The command's Comment ('' when it has none), which names the run that sent it. */
  comment?: string;
}

/** Run Command, as the run use cases need it. Adapters translate SDK errors into CommandRunnerError. */
export interface CommandRunner {
  sendCommand(request: SendCommandRequest): Promise<SentCommand>;
  /** The command's overall state and every invocation so far (all pages), with their results where the listing has them whole. */
  progress(commandId: string, opts?: ProgressOptions): Promise<CommandProgress>;
  /** One node's result with its output. */
  result(commandId: string, nodeId: string): Promise<InvocationResult>;
  /**
   * The id of a command of ours sent at or after `since` with exactly this comment, if SSM has one: how a
   * worker that crashed between SendCommand and storing its id finds the command instead of sending again.
   */
  findCommand(comment: string, since: string): Promise<string | undefined>;
}

/**
 * A Run Command failure. `code` is SSM's error name (`InvalidDocument`, `InvalidTarget`,
 * `ThrottlingException`, …) or `NetworkError`. `sent` says what a failed SendCommand means:
 *  - `no`: SSM refused it (validation, access, throttling), so nothing runs; `retryable` when trying
 *    again later may work (throttling);
 *  - `unknown`: the answer was lost (timeout, connection reset, server error): the command may be
 *    running, and sending it again could run it twice.
 */
export class CommandRunnerError extends Error {
  override readonly name = 'CommandRunnerError';
  constructor(
    readonly code: string,
    message: string,
    readonly sent: 'no' | 'unknown',
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
