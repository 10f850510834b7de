import { Router, type Request } from 'express';
import { diagnose } from '../../monitor/diagnosis/diagnose.ts';
import { DEFAULT_THRESHOLDS, mergeThresholds, type Thresholds } from '../../monitor/diagnosis/thresholds.ts';
import { buildTimeline } from '../../monitor/diagnosis/timeline.ts';
import type { DiagnosisInput } from '../../monitor/diagnosis/types.ts';

/**
 * Returns the device's history, or null when it does not exist or is outside the caller's
 * scope (both answer 404, docs/contract.md §6). Authentication and scoping are the loader's business.
 */
export type DiagnosisLoader = (deviceId: string, req: Request) => Promise<DiagnosisInput | null> | DiagnosisInput | null;

export interface DiagnosisRoutesOptions {
  load: DiagnosisLoader;
  /** Thresholds before per-customer overrides; defaults to DEFAULT_THRESHOLDS. */
  thresholds?: Thresholds;
  /** Path prefix, '' (default) or '/api'. */
  prefix?: string;
}

/**
 *   GET {prefix}/devices/:id/diagnosis → Diagnosis (docs/contract.md §6)
 *   GET {prefix}/devices/:id/timeline  → TimelineEntry[], oldest first
 * `prefix` defaults to '' for mounting inside the authenticated `/api` router (AppDeps.extraApi);
 * pass '/api' to mount on the app itself.
 */
export function diagnosisRouter(opts: DiagnosisRoutesOptions): Router {
  const base = opts.thresholds ?? DEFAULT_THRESHOLDS;
  const prefix = opts.prefix ?? '';
  const router = Router();
  router.get(`${prefix}/devices/:id/diagnosis`, async (req, res) => {
    const input = await opts.load(req.params.id, req);
    if (!input) {
      res.status(404).json({ error: `Device ${req.params.id} not found.` });
      return;
    }
    res.json(diagnose(input, base));
  });
  router.get(`${prefix}/devices/:id/timeline`, async (req, res) => {
    const input = await opts.load(req.params.id, req);
    if (!input) {
      res.status(404).json({ error: `Device ${req.params.id} not found.` });
      return;
    }
    res.json(buildTimeline(input, mergeThresholds(base, input.overrides)));
  });
  return router;
}
