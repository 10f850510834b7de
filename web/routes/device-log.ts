import { Router } from 'express';
import type { Clock } from '../../monitor/clock.ts';
import type { AuditLog } from '../../monitor/registry/audit.ts';
import { caseLog, type CaseLogEntry } from '../../monitor/alerts/case-log.ts';
import { noteText } from '../../monitor/alerts/note-text.ts';
import type { AlertJournal } from '../../monitor/alerts/journal.ts';
import type { Note, NoteStore, NoteWrites } from '../../monitor/alerts/notes-store.ts';
import { refusalMessage, SharedWriteRefused } from '../../monitor/alerts/shared-write-refused.ts';
import type { SilenceSubject } from '../../monitor/alerts/silences.ts';
import type { SilenceStore } from '../../monitor/alerts/silences-store.ts';
import type { AlertStore } from '../../monitor/alerts/store.ts';
import { actorName } from '../actor-name.ts';
import { check } from '../auth.ts';
import { HttpError } from '../http-error.ts';

/** Longest note, in characters: a page of text; a longer one is a document to attach elsewhere. */
export const NOTE_MAX = 4000;

export interface DeviceLogDeps {
  notes: NoteStore;
  /** Where new notes go: `notes` alone, the cluster's shared desk in a cluster (every worker's log shows them). */
  noteWrites?: NoteWrites;
  alerts: AlertStore;
  silences: SilenceStore;
  /** The device with its customer and last network and cell, or undefined. */
  device: (id: string) => SilenceSubject | undefined;
  clock: Clock;
  audit?: AuditLog;
  /** Comments on the device's alerts (the desk's), shown in its log too. */
  journal?: AlertJournal;
}

const view = (e: CaseLogEntry) => {
  const out: Record<string, unknown> = { ...e, at: new Date(e.at).toISOString() };
  if ('startsAt' in e) Object.assign(out, { startsAt: new Date(e.startsAt).toISOString(), endsAt: new Date(e.endsAt).toISOString() });
  return out;
};

/**
 * `POST /devices/:id/notes {text}` and `GET /devices/:id/log`, in the authenticated /api
 * router. Admins and agents note and read any device; a customer only its own (another
 * customer's device is a 404, exactly like a missing one). A note is plain text: stored as
 * sent (trimmed), HTML in it is inert because every reader shows it as text.
 */
export function deviceLogRoutes(d: DeviceLogDeps): Router {
  const r = Router();

  const visible = (req: Parameters<typeof check>[0], id: string, action: 'device:read' | 'note:create') => {
    const dev = d.device(id);
    check(req, action, dev?.customerId ?? '\u0000', 'device');
    if (!dev) throw new HttpError(404, 'device not found');
    return dev;
  };

  const writes = d.noteWrites ?? d.notes;
  r.post('/devices/:id/notes', async (req, res) => {
    const dev = visible(req, String(req.params.id), 'note:create');
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(422, 'note: send {"text": "…"}.', 'invalid_note');
    const extra = Object.keys(body).filter((k) => k !== 'text');
    if (extra.length) throw new HttpError(422, `note: unknown field "${extra[0]}"; a note has only "text".`, 'invalid_note');
    const t = noteText(body.text, 'note field "text"', NOTE_MAX);
    if (!t.ok) throw new HttpError(422, t.message, 'invalid_note');
    let note: Note;
    try {
      note = await writes.add({
        deviceId: dev.id,
        customerId: dev.customerId,
        text: t.text,
        by: actorName(req.principal!),
        at: d.clock.now(),
      });
    } catch (err) {
      if (!(err instanceof SharedWriteRefused)) throw err;
      throw new HttpError(503, refusalMessage('The note', err));
    }
    d.audit?.record(req.principal, 'device.note', dev.id, { noteId: note.id });
    res.status(201).json({ id: note.id, deviceId: note.deviceId, text: note.text, by: note.by, at: new Date(note.at).toISOString() });
  });

  r.get('/devices/:id/log', (req, res) => {
    const dev = visible(req, String(req.params.id), 'device:read');
    const p = req.principal!;
    const audience = p.role === 'customer' ? 'customer' : 'staff';
    const all = d.silences.list({ now: d.clock.now(), all: true, limit: 1000 });
    // A customer sees its own silences and the operator's network/cell ones, never another customer's.
    const silences = audience === 'customer' ? all.filter((s) => s.customerId === null || s.customerId === p.customerId) : all;
    const alerts = d.alerts.list({ deviceId: dev.id, limit: 1000 });
    const comments = d.journal?.ofKind(
      alerts.map((a) => a.id),
      'comment',
    );
    const entries = caseLog(dev, { notes: d.notes.forDevice(dev.id), alerts, silences, comments }, audience);
    res.json({ deviceId: dev.id, items: entries.map(view) });
  });

  return r;
}
