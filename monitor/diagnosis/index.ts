/** "Why is it offline?": pure functions over a device's recent history. */
export { diagnose } from './diagnose.ts';
export { buildTimeline } from './timeline.ts';
export { decideCause, type CauseDecision } from './cause.ts';
export { factsOf, type Facts } from './facts.ts';
export { computeNeighbourhood, isCorrelatedSilence, type Neighbourhood, type NeighbourCount } from './neighbourhood.ts';
export { historyByDeviceTime, historyWindow } from './history.ts';
export { judgeClock, placeFor, DEFAULT_CLOCK_RULE, type ClockJudgement, type ClockRule, type ClockVerdict } from './clock.ts';
export { backlogUploads, type BacklogUpload } from './backlog.ts';
export { loadDiagnosisInput, type HistorySources } from './load.ts';
export {
  DEFAULT_THRESHOLDS,
  mergeThresholds,
  thresholdOverridesSchema,
  thresholdProblems,
  type ThresholdOverrides,
  type Thresholds,
} from './thresholds.ts';
export { CAUSES, DEVICE_SIDE_CAUSES } from './types.ts';
export type { Cause, Check, Confidence, Diagnosis, DiagnosisInput, Level, TimelineEntry, TimelineKind } from './types.ts';
