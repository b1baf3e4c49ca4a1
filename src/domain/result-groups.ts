import type { NodeOutcome, NodeResult } from './command-run';

/**
 * Nodes of one run whose result is the same: same outcome, status, exit code and output (as stored,
 * with the length SSM returned). A fleet mostly answers alike, so 500 nodes read as a handful of
 * groups ("412 nodes, same output") with full output only where a node differs or fails (issue 13).
 */
export interface ResultGroup {
  /** The shared result, as the first node (by name) reported it; its timings and locations are that node's. */
  result: NodeResult;
  /** Every node in the group, sorted by name (then id). */
  nodes: { nodeId: string; nodeName?: string }[];
}

/** Outcomes listed first when groups are equally large: what went wrong before what went right. */
const OUTCOME_ORDER: Record<NodeOutcome, number> = {
  failed: 0,
  'timed-out': 1,
  'no-result': 2,
  undeliverable: 3,
  'delivery-timed-out': 4,
  cancelled: 5,
  succeeded: 6,
};

function sameResultKey(r: NodeResult): string {
  return JSON.stringify([
    r.outcome,
    r.status,
    r.statusDetails ?? null,
    r.exitCode ?? null,
    r.stdout,
    r.stdoutChars,
    r.stderr,
    r.stderrChars,
  ]);
}

const byName = (a: { nodeId: string; nodeName?: string }, b: { nodeId: string; nodeName?: string }) =>
  (a.nodeName ?? a.nodeId).localeCompare(b.nodeName ?? b.nodeId) || a.nodeId.localeCompare(b.nodeId);

/**
 * Groups a run's results by identical result. Largest group first; among equal sizes, failures
 * before successes, then by first node name, so the same results always read the same way.
 */
export function groupResults(results: readonly NodeResult[]): ResultGroup[] {
  const groups = new Map<string, NodeResult[]>();
  for (const r of results) {
    const key = sameResultKey(r);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()]
    .map((members) => {
      const sorted = [...members].sort(byName);
      const first = sorted[0] as NodeResult;
      return {
        result: first,
        nodes: sorted.map((r) => ({ nodeId: r.nodeId, ...(r.nodeName ? { nodeName: r.nodeName } : {}) })),
      };
    })
    .sort(
      (a, b) =>
        b.nodes.length - a.nodes.length ||
        OUTCOME_ORDER[a.result.outcome] - OUTCOME_ORDER[b.result.outcome] ||
        byName(a.nodes[0] as ResultGroup['nodes'][number], b.nodes[0] as ResultGroup['nodes'][number]),
    );
}
