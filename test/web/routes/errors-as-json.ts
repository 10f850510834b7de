import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../../../web/http-error.ts';

/** The app's error answer (web/app.ts) for a router mounted alone in a test: `{ error }` with the HttpError's status. */
export function errorsAsJson(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (err instanceof HttpError) return void res.status(err.status).json({ error: err.message });
  const e = err as { status?: number; message?: string };
  res.status(e.status ?? 500).json({ error: e.message ?? 'Internal error' });
}
