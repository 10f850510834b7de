import { decideCause } from './cause.ts';
import { runChecks } from './checks/index.ts';
import { factsOf } from './facts.ts';
import { iso, isoOrNull } from './format.ts';
import { nextStepFor } from './next-step.ts';
import { DEFAULT_THRESHOLDS, mergeThresholds, type Thresholds } from './thresholds.ts';
import type { Diagnosis, DiagnosisInput } from './types.ts';

/**
 * "Why is it offline?" for one device: facts from its history, nine traffic-light checks,
 * the probable cause (decideCause, rule table there) and a next step for the agent.
 * Pure: no clock, no I/O; `input.now` is the time of the diagnosis.
 *
 * @param base thresholds before the input's per-customer overrides (defaults normally).
 */
export function diagnose(input: DiagnosisInput, base: Readonly<Thresholds> = DEFAULT_THRESHOLDS): Diagnosis {
  const t = mergeThresholds(base, input.overrides);
  const facts = factsOf(input, t);
  const checks = runChecks(facts, t);
  const decision = decideCause(facts, t);
  const out: Diagnosis = {
    deviceId: input.device.id,
    name: input.device.name,
    status: input.state.status,
    lastSeen: isoOrNull(input.state.lastSeen),
    at: iso(input.now),
    cause: decision.cause,
    confidence: decision.confidence,
    nextStep: nextStepFor(decision, facts, checks),
    checks,
  };
  if (decision.evidence.length) out.evidence = decision.evidence;
  return out;
}
