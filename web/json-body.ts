import type { NextFunction, Request, Response } from 'express';
import { depthOf } from '../monitor/registry/custom-fields.ts';
import { HttpError } from './http-error.ts';

/**
 * Deepest JSON body accepted: our own bodies nest at most ~6 levels (a customer with channels
 * and a policy; a device's custom fields, which allow 4 of their own). 32 leaves room for any
 * honest client; a 1 MiB body of `[[[[…` is ~500 000 levels and would overflow the call stack
 * of whatever walks it recursively later.
 */
export const JSON_MAX_DEPTH = 32;

/**
 * Before the JSON parser: a body that is not `application/json` (or `…+json`) is refused with
 * 415 and a sentence, instead of being skipped by the parser and reported as "received
 * undefined" by validation. Requests without a body (GET, POST …/token) pass.
 *
 *   body present   Content-Type                     outcome
 *   -------------  -------------------------------  -------
 *   no, or empty   any or none                      next
 *   yes            application/json, x/y+json       next
 *   yes            anything else, or none           415
 */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  // `req.is` is null without a body, false for a body of another type; an empty body
  // (Content-Length: 0, as fetch sends for a bare PATCH) carries nothing to misread.
  if (req.headers['content-length'] === '0' || req.is(['application/json', '+json']) !== false) {
    next();
    return;
  }
  const sent = req.headers['content-type'] ?? 'no Content-Type';
  next(new HttpError(415, `Send the body as JSON with "Content-Type: application/json" (this request sent ${sent}).`, 'content_type'));
}

/** After the JSON parser: refuse a body nested deeper than JSON_MAX_DEPTH (walked without recursion). */
export function limitJsonDepth(req: Request, _res: Response, next: NextFunction): void {
  const depth = depthOf(req.body, JSON_MAX_DEPTH);
  if (depth <= JSON_MAX_DEPTH) {
    next();
    return;
  }
  next(new HttpError(422, `The request body is nested more than ${JSON_MAX_DEPTH} levels deep; flatten it.`, 'body_too_deep'));
}
