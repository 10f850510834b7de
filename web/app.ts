import type { WebhookDestinations } from '../monitor/alerts/channels/webhook-destination.ts';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LivenessTracker } from '../monitor/liveness/tracker.ts';
import type { Logger } from '../monitor/logger.ts';
import type { Metrics } from '../monitor/metrics.ts';
import type { LoginGuard } from '../monitor/security/login-guard.ts';
import type { AuditLog } from '../monitor/registry/audit.ts';
import { RegistryError, type Registry } from '../monitor/registry/registry.ts';
import { SinkError } from '../monitor/store/spool/rows.ts';
import type { TimeSeriesStore } from '../monitor/store/store.ts';
import type { Device } from '../monitor/types.ts';
import { authenticate } from './auth.ts';
import { allowedMethods } from './allowed-methods.ts';
import { HttpError } from './http-error.ts';
import { limitJsonDepth, requireJsonBody } from './json-body.ts';
import { openApiDocument } from './openapi/document.ts';
import { customerRoutes } from './routes/customers.ts';
import { deviceRoutes } from './routes/devices.ts';
import { exportRoutes } from './routes/export.ts';
import { keyRoutes } from './routes/keys.ts';
import { onboardingRoutes } from './routes/onboarding.ts';
import { sessionRoutes } from './routes/session.ts';
import { userRoutes } from './routes/users.ts';
import type { OidcSignOn } from './session-oidc.ts';
import type { SessionStore } from './session-store.ts';

export interface AppDeps {
  registry: Registry;
  liveness: LivenessTracker;
  store: TimeSeriesStore;
  metrics: Metrics;
  log: Logger;
  guard: LoginGuard;
  audit: AuditLog;
  version: string;
  /** Ports as bound (after port 0 was resolved). */
  ports: () => { mqttPort?: number; httpPort: number; mqttsPort?: number; broker?: string; radiusPort?: number };
  /** Extra health of the store (spool depth while InfluxDB is away). */
  storeHealth?: () => Record<string, unknown>;
  track(device: Device): void;
  retimeCustomer(customerId: string): void;
  /** Why the server is degraded (e.g. "disk full: …"); /healthz says `degraded` while any. */
  problems?: () => string[];
  /** True when a request's write failed because the disk is full (counted there): answered 507. */
  diskFull?: (err: unknown) => boolean;
  /** Which webhook addresses customers may configure (LASTSEEN_WEBHOOK_ALLOW); default: public ones only. */
  webhookDestinations?: WebhookDestinations;
  /** Further API routers (alerts, diagnosis, map), mounted under /api after auth. */
  extraApi?: Router[];
  /** Routes that carry their own credential (a signature), mounted before API-key authentication. */
  signedApi?: Router[];
  /** People's sign-in sessions (cookies); without it only API keys authenticate. */
  sessions?: SessionStore;
  /** Single sign-on for operators (./session-oidc.ts), when configured. */
  oidc?: OidcSignOn;
  /** The SIM data session shown by GET /api/devices/:id (monitor/network/), when RADIUS is on. */
  sessionOf?: (id: string) => unknown;
  /** Public config for the web page (tile URL). */
  publicConfig?: Record<string, unknown>;
}

const DIST = fileURLToPath(new URL('./dist/', import.meta.url));

/** Largest JSON request body accepted (bulk onboarding has its own, larger, limit). */
export const JSON_BODY_LIMIT = '1mb';

export function createApp(deps: AppDeps) {
  const { registry, liveness, store, metrics, log } = deps;
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    // Still 200 when degraded: reads and logins work, and restarting would not free the disk.
    const problems = deps.problems?.() ?? [];
    res.json({
      status: problems.length ? 'degraded' : 'ok',
      ...(problems.length ? { problems } : {}),
      ...deps.ports(),
      store: store.name,
      ...deps.storeHealth?.(),
      devices: liveness.size,
      version: deps.version,
    });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const openapi = openApiDocument(deps.version);
  const allowed = allowedMethods(openapi.paths);
  /** 405 with `Allow` when the path exists with other methods; undefined when it does not exist. */
  const wrongMethod = (method: string, path: string, res: Response): HttpError | undefined => {
    const methods = allowed(path);
    // Not documented here, or documented with this method but not mounted in this configuration.
    if (methods.length === 0 || methods.includes(method)) return undefined;
    res.set('Allow', methods.join(', '));
    return new HttpError(405, `${method} is not a method of ${path}; it answers ${methods.join(', ')}.`, 'method_not_allowed');
  };
  // Public, like /healthz: it describes the API, it holds no data.
  app.get('/api/openapi.json', (_req, res) => res.json(openapi));

  const auth = authenticate(registry, metrics, deps.guard, log, deps.sessions);
  // Sign-in comes before the API's authentication: it is how a person gets a session.
  if (deps.sessions)
    app.use(
      '/api',
      sessionRoutes({
        registry,
        sessions: deps.sessions,
        guard: deps.guard,
        metrics,
        log,
        audit: deps.audit,
        authenticate: auth,
        oidc: deps.oidc,
      }),
    );
  for (const r of deps.signedApi ?? []) app.use('/api', r);
  const api = express.Router();
  api.use(auth);
  // Before the general JSON parser: onboarding streams CSV and takes larger JSON arrays.
  api.use(onboardingRoutes(registry, deps.track, deps.audit));
  api.use(requireJsonBody, express.json({ limit: JSON_BODY_LIMIT }), limitJsonDepth);
  // `caller`: who the page is signed in as, token or person, so it offers only what this login may do.
  api.get('/config', (req, res) => {
    const p = req.principal!;
    const caller = { role: p.role, customerId: p.customerId ?? null, username: p.username ?? null };
    res.json({ ...deps.publicConfig, caller });
  });
  api.use(customerRoutes(registry, deps.audit, deps.retimeCustomer, deps.webhookDestinations));
  api.use(keyRoutes(registry, deps.audit));
  api.use(userRoutes(registry, deps.audit));
  api.use(exportRoutes(registry));
  api.use(deviceRoutes({ registry, liveness, store, track: deps.track, audit: deps.audit, sessionOf: deps.sessionOf }));
  for (const r of deps.extraApi ?? []) api.use(r);
  api.use((req, res, next) =>
    next(wrongMethod(req.method, `/api${req.path}`, res) ?? new HttpError(404, `There is no API endpoint ${req.method} /api${req.path}.`)),
  );
  app.use('/api', api);

  if (existsSync(DIST)) app.use(express.static(DIST, { index: 'index.html' }));
  // Instead of express's HTML page: every error, here too, is `{ "error": "<sentence>" }`.
  app.use((req, res, next) =>
    next(wrongMethod(req.method, req.path, res) ?? new HttpError(404, `There is nothing at ${req.method} ${req.path}.`)),
  );

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (deps.diskFull?.(err)) {
      return void res
        .status(507)
        .json({ error: 'The server cannot store this now: its disk is full. Nothing was changed; try again later.' });
    }
    const { status, message, reason } = toHttp(err);
    if (status >= 500) log.error({ err, path: req.path }, 'request failed');
    else if (reason) {
      metrics.apiRejected.inc({ reason });
      log.warn(
        { reason, status, method: req.method, path: req.path, role: req.principal?.role, customerId: req.principal?.customerId },
        `request refused: ${message}`,
      );
    }
    res.status(status).json({ error: message });
  });

  return app;
}

/** Statuses that mean "the input was refused" and are counted even without a named reason. */
const INPUT_REFUSED = new Set([400, 413, 415, 422]);

function toHttp(err: unknown): { status: number; message: string; reason?: string } {
  if (err instanceof HttpError || err instanceof RegistryError) {
    const reason = (err instanceof HttpError ? err.reason : undefined) ?? (INPUT_REFUSED.has(err.status) ? 'invalid_request' : undefined);
    return { status: err.status, message: err.message, reason };
  }
  if (err instanceof SinkError) return { status: 503, message: 'The time-series store is unavailable; try again shortly.' };
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.too.large')
    return { status: 413, message: `The request body is larger than the limit of ${e.limit} bytes.`, reason: 'too_large' };
  if (e?.type === 'entity.parse.failed') return { status: 400, message: 'The request body is not valid JSON.', reason: 'not_json' };
  if (e?.status && e.status >= 400 && e.status < 500) return { status: e.status, message: String((err as Error).message) };
  return { status: 500, message: 'Internal error; it has been logged.' };
}
