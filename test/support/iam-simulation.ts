import type { EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';

type SimulationResponse = Awaited<ReturnType<typeof runSimulation>>;

/** What a simulation decided, or why it could not. */
export type Decision = EvaluationResult | `error: ${string}`;

/** A Strict single-request simulation's decision (`Allowed`, `ImplicitlyDenied`, …), or why there is none. */
export function analysisResult(response: SimulationResponse): Decision {
  if (response.resultType === 'error') return `error: ${response.errors.message}`;
  if (response.resultType !== 'single') return `error: unexpected ${response.resultType} result`;
  return response.result.analysis.result;
}
