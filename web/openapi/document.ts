import { z } from 'zod';
import {
  customerCreateSchema,
  customerPatchSchema,
  deviceCreateSchema,
  devicePatchSchema,
  keyCreateSchema,
  sessionCreateSchema,
  userCreateSchema,
  userPatchSchema,
} from '../schemas.ts';
import { silenceCreateSchema } from '../../monitor/alerts/silences-input.ts';
import { letterSendSchema } from '../letter-sending.ts';
import * as R from './responses.ts';

type Schema = z.ZodType;

const json = (s: Schema, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });

/** Named schemas of the document: requests (as validated) and responses (as checked by tests). */
const REQUESTS: Record<string, Schema> = {
  CustomerCreate: customerCreateSchema,
  CustomerPatch: customerPatchSchema,
  DeviceCreate: deviceCreateSchema,
  DevicePatch: devicePatchSchema,
  KeyCreate: keyCreateSchema,
  UserCreate: userCreateSchema,
  UserPatch: userPatchSchema,
  SessionCreate: sessionCreateSchema,
  SilenceCreate: silenceCreateSchema,
  NoteCreate: z
    .object({ text: z.string().min(1).max(4000).describe('plain text; line breaks and tabs allowed, other control characters refused') })
    .strict(),
  LetterSend: letterSendSchema,
};
const RESPONSES: Record<string, Schema> = {
  Error: R.errorBody,
  Health: R.health,
  Customer: R.customerView,
  Device: R.deviceView,
  DeviceCreated: R.deviceCreated,
  DeviceList: R.deviceList,
  HeartbeatList: R.heartbeatList,
  KeyCreated: R.keyCreated,
  KeyList: R.keyList,
  OnboardingResult: R.onboardingResult,
  Diagnosis: R.diagnosisView,
  AuditList: R.auditList,
  User: R.userView,
  UserList: R.userList,
  Session: R.sessionView,
  Silence: R.silenceView,
  SilenceCreated: R.silenceCreated,
  SilenceList: R.silenceList,
  Note: R.noteView,
  CaseLog: R.caseLogView,
  LetterDraft: R.letterDraft,
  LetterResult: R.letterResult,
  LetterRepeated: R.letterRepeated,
  LetterFailed: R.letterFailed,
  LetterList: R.letterList,
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const ok = (name: string, code = '200') => ({ [code]: { description: 'OK', content: { 'application/json': { schema: ref(name) } } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'Error', content: { 'application/json': { schema: ref('Error') } } }]));
const q = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** OpenAPI 3.1 description of the REST API, served at /api/openapi.json. */
/** A letter's draft, send and list, about a device or an incident: the same answers and refusals (web/letter-sending.ts). */
function letterPaths(about: 'devices' | 'incidents', to: string, listed: string) {
  return {
    [`/api/${about}/{id}/letter`]: {
      get: {
        summary: `A letter to ${to}, composed in the contact's language and time zone (admin, agent); nothing is kept`,
        parameters: [
          idParam,
          q('language', "en | de | sv; default the contact's"),
          q('contact', "a contact's e-mail; default the first contact"),
        ],
        responses: { ...ok('LetterDraft'), ...errors(401, 403, 404, 409, 422) },
      },
      post: {
        summary: "Send a letter (the agent's edited text) to the customer's contacts through SMTP; kept either way",
        parameters: [idParam],
        requestBody: body('LetterSend'),
        responses: {
          ...ok('LetterResult', '201'),
          ...ok('LetterRepeated', '200'),
          '502': {
            description: 'SMTP failed; the letter is kept, retryable with POST /api/letters/{id}/retry',
            content: { 'application/json': { schema: ref('LetterFailed') } },
          },
          ...errors(400, 401, 403, 404, 409, 413, 422),
        },
      },
    },
    [`/api/${about}/{id}/letters`]: {
      get: {
        summary: `${listed}, newest first (admin, agent)`,
        parameters: [idParam],
        responses: { ...ok('LetterList'), ...errors(401, 403, 404) },
      },
    },
  };
}

export function openApiDocument(version: string) {
  const schemas: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(REQUESTS)) schemas[name] = json(s, 'input');
  for (const [name, s] of Object.entries(RESPONSES)) schemas[name] = json(s, 'output');
  for (const s of Object.values(schemas)) delete (s as { $schema?: string }).$schema;
  return {
    openapi: '3.1.0',
    info: { title: 'lastseen', version, description: 'Connectivity monitor for IoT devices and animal trackers.' },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'lastseen_session',
          description: 'from POST /api/session; writes also need the X-CSRF-Token header',
        },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      '/healthz': { get: { summary: 'Health and bound ports', security: [], responses: ok('Health') } },
      '/metrics': {
        get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'text/plain; version=0.0.4' } } },
      },
      '/api/customers': {
        post: {
          summary: 'Create a customer',
          requestBody: body('CustomerCreate'),
          responses: { ...ok('Customer', '201'), ...errors(401, 403, 409, 422) },
        },
      },
      '/api/customers/{id}': {
        get: { parameters: [idParam], responses: { ...ok('Customer'), ...errors(401, 404) } },
        patch: {
          parameters: [idParam],
          requestBody: body('CustomerPatch'),
          responses: { ...ok('Customer'), ...errors(401, 403, 404, 422) },
        },
        delete: {
          summary: 'Delete a customer without devices: its API keys are revoked and their sessions closed (admin)',
          parameters: [idParam],
          responses: { '200': { description: '{ id, deleted: true, revokedKeys: [key id] }' }, ...errors(401, 403, 404, 409) },
        },
      },
      '/api/keys': {
        post: {
          summary: 'Create an API key (the token is shown once)',
          requestBody: body('KeyCreate'),
          responses: { ...ok('KeyCreated', '201'), ...errors(401, 403, 422) },
        },
        get: { summary: 'List API keys (ids, never tokens)', responses: { ...ok('KeyList'), ...errors(401, 403) } },
      },
      '/api/keys/{id}': {
        delete: {
          summary: 'Revoke an API key',
          parameters: [idParam],
          responses: { '200': { description: 'revoked' }, ...errors(401, 403, 404) },
        },
      },
      '/api/audit': {
        get: {
          summary: 'Audit log of administrative changes',
          parameters: [q('limit', 'at most this many, newest first', { type: 'integer' }), q('target', 'only this object')],
          responses: { ...ok('AuditList'), ...errors(401, 403) },
        },
      },
      '/api/users': {
        post: {
          summary: 'Create a person who signs in with a password (admin)',
          requestBody: body('UserCreate'),
          responses: { ...ok('User', '201'), ...errors(401, 403, 409, 422) },
        },
        get: { summary: 'List people (admin; never a password)', responses: { ...ok('UserList'), ...errors(401, 403) } },
      },
      '/api/users/{id}': {
        patch: {
          summary: 'Disable a person (their sessions and sockets end at once; they cannot sign in) or enable them again (admin)',
          parameters: [idParam],
          requestBody: body('UserPatch'),
          responses: { ...ok('User'), ...errors(401, 403, 404, 422) },
        },
        delete: {
          summary: 'Delete a person; their sessions and sockets end at once (admin)',
          parameters: [idParam],
          responses: { '200': { description: 'the deleted user, deleted: true' }, ...errors(401, 403, 404) },
        },
      },
      '/api/session': {
        post: {
          summary:
            'Sign in with username and password: sets the httpOnly session cookie. Unknown user and wrong password answer alike (401); repeated failures 429',
          security: [],
          requestBody: body('SessionCreate'),
          responses: { ...ok('Session', '201'), ...errors(401, 422, 429) },
        },
        get: {
          summary: 'The signed-in person and their CSRF token (session cookie only)',
          security: [{ session: [] }],
          responses: { ...ok('Session'), ...errors(401) },
        },
        delete: {
          summary: 'Sign out: the session ends and its sockets close (needs X-CSRF-Token)',
          security: [{ session: [] }],
          responses: { '200': { description: '{ signedOut: true }' }, ...errors(401, 403) },
        },
      },
      '/api/session/options': {
        get: {
          summary: 'How people may sign in here: { password: true, sso: bool }',
          security: [],
          responses: { '200': { description: '{ password, sso }' } },
        },
      },
      '/api/session/oidc': {
        get: {
          summary: 'Single sign-on: 302 to the OpenID provider (authorization code with PKCE)',
          security: [],
          responses: { '302': { description: 'to the provider' }, ...errors(404, 503) },
        },
      },
      '/api/session/oidc/callback': {
        get: {
          summary:
            "The provider's answer: sets the session cookie and 302 to the map; 401 with a sentence when refused (no role, username taken, state not this browser's)",
          security: [],
          parameters: [q('code', 'authorization code'), q('state', 'as sent')],
          responses: { '302': { description: 'signed in, to /' }, ...errors(401, 404) },
        },
      },
      '/api/devices': {
        post: {
          summary: 'Create a device; returns its token once',
          requestBody: body('DeviceCreate'),
          responses: { ...ok('DeviceCreated', '201'), ...errors(401, 403, 409, 422) },
        },
        get: {
          summary: 'List devices',
          parameters: [
            q('status', 'unknown | online | late | offline'),
            q('customerId', 'only this customer (customer keys: always their own)'),
            q('q', 'substring of id, name, ICCID, IMSI, MSISDN, IMEI, nickname'),
            q('limit', '1–1000, default 100', { type: 'integer' }),
            q('cursor', 'the `next` of the previous page'),
          ],
          responses: { ...ok('DeviceList'), ...errors(400, 401) },
        },
      },
      '/api/devices.csv': {
        get: { summary: 'The registry as an onboarding CSV', responses: { '200': { description: 'text/csv' }, ...errors(401) } },
      },
      '/api/devices/{id}': {
        get: { parameters: [idParam], responses: { ...ok('Device'), ...errors(401, 404) } },
        patch: { parameters: [idParam], requestBody: body('DevicePatch'), responses: { ...ok('Device'), ...errors(401, 403, 404, 422) } },
      },
      '/api/devices/{id}/heartbeats': {
        get: {
          summary: 'Stored heartbeats, newest first by device time (ts when plausible, else receive time)',
          parameters: [
            idParam,
            q('from', 'ISO-8601 or epoch ms, on device time'),
            q('to', 'ISO-8601 or epoch ms, on device time'),
            q('limit', '1–10000, default 100', { type: 'integer' }),
          ],
          responses: { ...ok('HeartbeatList'), ...errors(400, 401, 404) },
        },
      },
      '/api/devices/{id}/token': {
        post: {
          summary: 'Rotate the device token (closes its sessions)',
          parameters: [idParam],
          responses: { '200': { description: '{ id, token }' }, ...errors(401, 403, 404) },
        },
      },
      '/api/devices/{id}/revoke': {
        post: {
          summary: 'Revoke the device token (closes its sessions)',
          parameters: [idParam],
          responses: { '200': { description: '{ id, revoked }' }, ...errors(401, 403, 404) },
        },
      },
      '/api/devices/{id}/diagnosis': { get: { parameters: [idParam], responses: { ...ok('Diagnosis'), ...errors(401, 404) } } },
      '/api/devices/{id}/timeline': {
        get: { parameters: [idParam], responses: { '200': { description: 'timeline entries, oldest first' }, ...errors(401, 404) } },
      },
      ...letterPaths('devices', "the device's customer", "The device's letters"),
      ...letterPaths(
        'incidents',
        'the customer of an incident (by incident id or its alert id): how many devices, the cell or network, since when, where, the devices',
        "The incident's letters",
      ),
      '/api/letters/{id}/retry': {
        post: {
          summary: 'Send a kept letter that failed once more (admin, agent)',
          parameters: [idParam],
          responses: {
            ...ok('LetterResult'),
            '502': { description: 'SMTP failed again', content: { 'application/json': { schema: ref('LetterFailed') } } },
            ...errors(401, 403, 404, 409),
          },
        },
      },
      '/api/broker/authn': {
        post: {
          summary:
            'A broker that calls out (LASTSEEN_BROKER_AUTH=http; EMQX HTTP authenticator) asks whether username + password may log in (admin key)',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    username: { type: 'string' },
                    password: { type: 'string' },
                    clientid: { type: 'string' },
                    peerhost: { type: 'string' },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: '{ result: "allow", is_superuser: false } or { result: "deny" }',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { result: { enum: ['allow', 'deny'] }, is_superuser: { type: 'boolean' } },
                    required: ['result'],
                  },
                },
              },
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/api/sim-platform/events': {
        post: {
          summary:
            'The SIM platform pushes an event (LASTSEEN_SIM_PUSH_SECRET; Control Center Push API): signed with the shared secret instead of an API key',
          security: [],
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: {
                  type: 'object',
                  properties: {
                    eventId: { type: 'string' },
                    eventType: { type: 'string', examples: ['SIM_STATE_CHANGE', 'SESSION_START', 'SESSION_STOP'] },
                    timestamp: { type: 'string', format: 'date-time' },
                    signature: { type: 'string', description: 'Base64(HMAC-SHA1(secret, timestamp))' },
                    data: {
                      type: 'string',
                      description: 'the event as XML, e.g. <SimStateChange><iccid/><currentState/><dateChanged/></SimStateChange>',
                    },
                  },
                  required: ['eventId', 'eventType', 'timestamp', 'signature'],
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'applied, or known to need nothing',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      result: { enum: ['applied', 'unchanged', 'duplicate', 'older', 'unmatched_sim', 'unknown_status', 'ignored'] },
                    },
                    required: ['result'],
                  },
                },
              },
            },
            ...errors(400, 401, 415, 503),
          },
        },
      },
      '/api/broker/authz': {
        post: {
          summary: 'A broker that calls out asks whether username may publish to or subscribe to topic (admin key)',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { username: { type: 'string' }, topic: { type: 'string' }, action: { enum: ['publish', 'subscribe'] } },
                  required: ['username', 'topic', 'action'],
                },
              },
            },
          },
          responses: {
            '200': {
              description: '{ result: "allow" | "deny" }',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { result: { enum: ['allow', 'deny'] } }, required: ['result'] },
                },
              },
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/api/onboarding': {
        post: {
          summary: 'Bulk onboarding: text/csv (the onboarding CSV) or a JSON array; NDJSON answer with Accept: application/x-ndjson',
          requestBody: {
            required: true,
            content: {
              'text/csv': { schema: { type: 'string' } },
              'application/json': { schema: { type: 'array', items: { type: 'object' } } },
            },
          },
          responses: { ...ok('OnboardingResult'), ...errors(400, 401, 403, 415) },
        },
      },
      '/api/silences': {
        post: {
          summary:
            'Silence a device, a customer, a network or a cell, once or in a weekly window (customers: own devices; wide ones: admin)',
          requestBody: body('SilenceCreate'),
          responses: { ...ok('SilenceCreated', '201'), ...errors(401, 403, 404, 422) },
        },
        get: {
          summary: 'Silences not yet over (all=true: also past and deleted ones), newest first',
          parameters: [q('deviceId', 'only those covering this device'), q('all', 'true | false')],
          responses: { ...ok('SilenceList'), ...errors(400, 401, 404) },
        },
      },
      '/api/silences/{id}': {
        delete: {
          summary: 'End a silence now (kept, marked deleted)',
          parameters: [idParam],
          responses: { ...ok('Silence'), ...errors(401, 403, 404) },
        },
      },
      '/api/devices/{id}/notes': {
        post: {
          summary: 'Add a note to the device’s case log',
          parameters: [idParam],
          requestBody: body('NoteCreate'),
          responses: { ...ok('Note', '201'), ...errors(401, 403, 404, 422) },
        },
      },
      '/api/devices/{id}/log': {
        get: {
          summary: 'Case log: notes, alerts, acks, silences, oldest first',
          parameters: [idParam],
          responses: { ...ok('CaseLog'), ...errors(401, 404) },
        },
      },
      '/api/alerts': {
        get: {
          summary: 'The inbox: alerts and incidents (incident.opened items), newest first, with status, severity and assignee',
          parameters: [
            q('state', 'firing | acknowledged | resolved | silenced'),
            q('customerId', ''),
            q('deviceId', ''),
            q('cause', 'a cause name, e.g. network_outage'),
            q('severity', 'comma-separated list of critical, major, minor, info'),
            q('failed', 'true: only alerts with a dropped or refused delivery'),
            q('acked', 'true | false'),
            q('limit', '', { type: 'integer' }),
          ],
          responses: { '200': { description: 'alerts' }, ...errors(400, 401) },
        },
      },
      '/api/alerts/{id}': {
        get: {
          summary: 'One alert: deliveries, escalation, assignee; an incident with its member devices',
          parameters: [idParam],
          responses: { '200': { description: 'the alert' }, ...errors(401, 404) },
        },
        patch: {
          summary: 'Assign an alert to an admin or agent by username, or to nobody with null (admin, agent)',
          parameters: [idParam],
          responses: { '200': { description: 'the alert' }, ...errors(401, 403, 404, 422) },
        },
      },
      '/api/alerts/{id}/comments': {
        post: {
          summary: 'Comment on an alert, into its case log (admin, agent; a customer on its own alert)',
          parameters: [idParam],
          responses: { '201': { description: 'the comment' }, ...errors(401, 403, 404, 422) },
        },
      },
      '/api/alerts/{id}/resolve': {
        post: {
          summary: 'Resolve an alert by hand, with an optional reason; nothing is sent (admin, agent)',
          parameters: [idParam],
          responses: { '200': { description: 'the alert' }, ...errors(401, 403, 404, 409, 422) },
        },
      },
      '/api/alerts/{id}/log': {
        get: {
          summary: 'Case log of an alert: fired, comments, assignments, escalation, ack, resolved, oldest first',
          parameters: [idParam],
          responses: { '200': { description: 'the case log' }, ...errors(401, 404) },
        },
      },
      '/api/incidents/{id}/log': {
        get: {
          summary:
            'Case log of an incident (by incident id or its alert id): also member devices joining and coming back, and (admin, agent) the letters written about it',
          parameters: [idParam],
          responses: { '200': { description: 'the case log' }, ...errors(401, 404) },
        },
      },
      '/api/alerts/{id}/ack': {
        post: {
          summary: 'Acknowledge an alert (admin, agent)',
          parameters: [idParam],
          responses: { '200': { description: 'acknowledged' }, ...errors(401, 403, 404) },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/api/config': {
        get: {
          summary: 'Settings the web page needs (tile URL) and who is calling',
          responses: { '200': { description: '{ tileUrl, caller: { role, customerId, username } }' }, ...errors(401) },
        },
      },
      '/api/assignees': {
        get: {
          summary: 'People an alert can be assigned to: enabled admins and agents (admin, agent)',
          responses: { '200': { description: '{ items: [{ username, name, role }] }' }, ...errors(401, 403) },
        },
      },
      '/api/map/summary': {
        get: {
          summary: 'Device counts by status for the map header',
          parameters: [q('customerId', 'only this customer (customer keys: always their own)')],
          responses: { '200': { description: 'counts by status' }, ...errors(401) },
        },
      },
      '/api/map/devices': {
        get: {
          summary: 'Devices for the map list, filtered and sorted',
          parameters: [q('status', 'comma-separated list of unknown, online, late, offline')],
          responses: { '200': { description: 'devices' }, ...errors(400, 401) },
        },
      },
      '/api/map': {
        get: {
          summary: 'Viewport clusters or points',
          parameters: [q('bbox', 'w,s,e,n'), q('zoom', '', { type: 'integer' })],
          responses: { '200': { description: 'clusters or points' } },
        },
      },
    },
  };
}
