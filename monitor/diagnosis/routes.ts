import { Router, type Request } from 'express';
import { diagnose } from './diagnose.ts';
import { DEFAULT_THRESHOLDS, mergeThresholds, type Thresholds } from './thresholds.ts';
import { buildTimeline } from './timeline.ts';
import type { DiagnosisInput } from './types.ts';

/**
 * Returns the device's history, or null when it does not exist or is outside the caller's
 * scope (both answer 404, CONTRACT §6). Authentication and scoping are the loader's business.
 */
export type DiagnosisLoader = (deviceId: string, req: Request) => Promise<DiagnosisInput | null> | DiagnosisInput | null;

export interface DiagnosisRoutesOptions {
  load: DiagnosisLoader;
  /** Thresholds before per-customer overrides; defaults to DEFAULT_THRESHOLDS. */
  thresholds?: Thresholds;
}

/**
 *   GET /api/devices/:id/diagnosis → Diagnosis (CONTRACT §6)
 *   GET /api/devices/:id/timeline  → TimelineEntry[], oldest first
 * Mount after the auth middleware: `app.use(diagnosisRouter({ load }))`.
 */
export function diagnosisRouter(opts: DiagnosisRoutesOptions): Router {
  const base = opts.thresholds ?? DEFAULT_THRESHOLDS;
  const router = Router();
  router.get('/api/devices/:id/diagnosis', async (req, res) => {
    const input = await opts.load(req.params.id, req);
    if (!input) {
      res.status(404).json({ error: `Device ${req.params.id} not found.` });
      return;
    }
    res.json(diagnose(input, base));
  });
  router.get('/api/devices/:id/timeline', async (req, res) => {
    const input = await opts.load(req.params.id, req);
    if (!input) {
      res.status(404).json({ error: `Device ${req.params.id} not found.` });
      return;
    }
    res.json(buildTimeline(input, mergeThresholds(base, input.overrides)));
  });
  return router;
}
