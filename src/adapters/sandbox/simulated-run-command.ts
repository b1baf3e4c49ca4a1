import type { SandboxNode } from '../../config/types';
import type { Clock } from '../../ports/clock';
import {
  type CommandProgress,
  type CommandRunner,
  CommandRunnerError,
  type InvocationResult,
  type ProgressOptions,
  RUN_SHELL_DOCUMENT,
  type SendCommandRequest,
  type SentCommand,
} from '../../ports/command-runner';

/** ListCommandInvocations with Details lists each node's output up to this many characters (2,500). */
const LISTED_OUTPUT_LIMIT = 2_500;

/** What a node answers to a command; unset fields get the simulation's defaults. */
export interface ScriptedResult {
  status?: string;
  statusDetails?: string;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Polls that still report the node InProgress before this result shows. */
  pendingPolls?: number;
}

interface SimulatedCommand {
  id: string;
  request: SendCommandRequest;
  sentAt: string;
  nodes: SandboxNode[];
  polls: number;
}

/**
 * Run Command in the sandbox: the command is "run" on the configured fleet's nodes that carry all of
 * the target's tags, instantly, with a deterministic per-node output that says it is simulated. Nodes
 * that are not Online are undeliverable, as SSM reports nodes whose agent it cannot reach. Nothing is
 * executed anywhere. Tests script per-node results and failures through the controls below.
 */
export class SimulatedRunCommand implements CommandRunner {
  /** Every SendCommand, in order: tests count them. */
  readonly sent: SendCommandRequest[] = [];
  private readonly commands = new Map<string, SimulatedCommand>();
  private readonly scripted = new Map<string, ScriptedResult>();
  private readonly sendFailures: CommandRunnerError[] = [];
  private seq = 0;

  constructor(
    private readonly opts: {
      /** The nodes of the account and region this Run Command is in. */
      nodes: readonly SandboxNode[];
      clock: Clock;
      /** The next command id; default `sim-<n>` from this runner's own count. One count per organisation keeps ids unique across places. */
      nextId?: () => string;
    },
  ) {}

  // ---- test and sandbox controls -------------------------------------------------------------

  /** Every later command answers this on `nodeId`. */
  script(nodeId: string, result: ScriptedResult): void {
    this.scripted.set(nodeId, result);
  }

  /** The next SendCommand fails with this error, before anything is sent. */
  failNextSend(error: CommandRunnerError): void {
    this.sendFailures.push(error);
  }

  // ---- CommandRunner ----------------------------------------------------------------------------

  async sendCommand(request: SendCommandRequest): Promise<SentCommand> {
    const failure = this.sendFailures.shift();
    if (failure) throw failure;
    if (request.documentName !== RUN_SHELL_DOCUMENT)
      throw new CommandRunnerError(
        'InvalidDocument',
        `document ${request.documentName} is not allowed`,
        'no',
        false,
      );
    this.sent.push(structuredClone(request));
    const id = this.opts.nextId?.() ?? simulatedCommandId(++this.seq);
    const nodes = this.opts.nodes.filter((n) =>
      Object.entries(request.targetTags).every(([key, value]) => n.tags[key] === value),
    );
    this.commands.set(id, { id, request, sentAt: this.opts.clock.now().toISOString(), nodes, polls: 0 });
    return { commandId: id };
  }

  async progress(commandId: string, _opts?: ProgressOptions): Promise<CommandProgress> {
    const command = this.command(commandId);
    command.polls++;
    const invocations = command.nodes.map((n) => {
      const r = this.answer(command, n);
      const status = {
        nodeId: n.id,
        nodeName: n.name,
        status: r.status,
        ...(r.statusDetails ? { statusDetails: r.statusDetails } : {}),
      };
      // As SSM's detailed listing: an ended node's result comes with it unless its output is too long to list.
      const listed = r.status !== 'InProgress' && r.stdout.length + r.stderr.length < LISTED_OUTPUT_LIMIT;
      return listed ? { ...status, result: this.toResult(command, n, r) } : status;
    });
    const done = invocations.every((i) => i.status !== 'InProgress');
    // Listing is free here, so the invocations come whatever the caller asked for.
    return { done, targetCount: command.nodes.length, invocations, comment: command.request.comment };
  }

  async result(commandId: string, nodeId: string): Promise<InvocationResult> {
    const command = this.command(commandId);
    const node = command.nodes.find((n) => n.id === nodeId);
    if (!node)
      throw new CommandRunnerError('InvocationDoesNotExist', `no invocation on ${nodeId}`, 'no', false);
    return this.toResult(command, node, this.answer(command, node));
  }

  private toResult(
    command: SimulatedCommand,
    node: SandboxNode,
    r: ReturnType<SimulatedRunCommand['answer']>,
  ): InvocationResult {
    return {
      nodeId: node.id,
      nodeName: node.name,
      status: r.status,
      ...(r.statusDetails ? { statusDetails: r.statusDetails } : {}),
      exitCode: r.exitCode,
      ...(r.status !== 'InProgress' && r.exitCode !== -1
        ? { startedAt: command.sentAt, endedAt: command.sentAt }
        : {}),
      stdout: r.stdout,
      stderr: r.stderr,
      comment: command.request.comment,
    };
  }

  async findCommand(comment: string, since: string): Promise<string | undefined> {
    for (const command of this.commands.values())
      if (command.request.comment === comment && command.sentAt >= since) return command.id;
    return undefined;
  }

  private command(commandId: string): SimulatedCommand {
    const command = this.commands.get(commandId);
    if (!command) throw new CommandRunnerError('InvalidCommandId', `no command ${commandId}`, 'no', false);
    return command;
  }

  private answer(
    command: SimulatedCommand,
    node: SandboxNode,
  ): { status: string; statusDetails?: string; exitCode: number; stdout: string; stderr: string } {
    const scripted = this.scripted.get(node.id);
    if (scripted?.pendingPolls !== undefined && command.polls <= scripted.pendingPolls)
      return { status: 'InProgress', statusDetails: 'InProgress', exitCode: -1, stdout: '', stderr: '' };
    if (node.ping !== 'Online' && scripted === undefined)
      return { status: 'Failed', statusDetails: 'Undeliverable', exitCode: -1, stdout: '', stderr: '' };
    const command0 = command.request.commands[0] ?? '';
    return {
      status: scripted?.status ?? 'Success',
      ...(scripted?.statusDetails ? { statusDetails: scripted.statusDetails } : {}),
      exitCode: scripted?.exitCode ?? 0,
      stdout: scripted?.stdout ?? simulatedOutput(node, command0),
      stderr: scripted?.stderr ?? '',
    };
  }
}

/** `sim-00000001`: a simulated command id, as SSM's are unique across accounts and regions. */
export function simulatedCommandId(n: number): string {
  return `sim-${String(n).padStart(8, '0')}`;
}

/**
 * A plausible, deterministic output for a few common commands (numbers derived from the node id),
 * always headed "(simulated)" so nobody mistakes it for a real machine's answer.
 */
export function simulatedOutput(node: Pick<SandboxNode, 'id' | 'name'>, command: string): string {
  const n = hash(node.id);
  const head = `(simulated) ${node.name} $ ${command}`;
  const program = command.trim().split(/\s+/)[0] ?? '';
  switch (program) {
    case 'df': {
      const used = 20 + (n % 70);
      return `${head}\nFilesystem      Size  Used Avail Use% Mounted on\n/dev/mmcblk0p2   29G  ${((29 * used) / 100).toFixed(1)}G  ${((29 * (100 - used)) / 100).toFixed(1)}G  ${used}% /`;
    }
    case 'uptime':
      return `${head}\n 10:00:00 up ${1 + (n % 90)} days,  0 users,  load average: 0.${n % 10}${(n >> 4) % 10}, 0.1${n % 7}, 0.05`;
    case 'journalctl':
      return `${head}\n-- simulated journal: no log lines are kept in the sandbox --`;
    case 'free':
      return `${head}\n               total        used        free\nMem:         3884000     ${900000 + (n % 900000)}     ${1000000 + (n % 500000)}`;
    default:
      return `${head}\n(the sandbox runs nothing; this command would have run here and exited 0)`;
  }
}

/** FNV-1a: a stable small number per node id. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
