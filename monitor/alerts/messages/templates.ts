import type { Cause } from '../types.ts';

/** What a sentence template gets: every value already formatted for the reader. */
export interface View {
  /** "Kito (collar-17)", or just the id when the device has no name. */
  device: string;
  /** "Kito (collar-17, ICCID 8944…)": the device as the first words of a sentence name it. */
  who: string;
  iccid: string;
  /** Absolute UTC time of the last heartbeat, or null if never heard. */
  since: string | null;
  /** "2 h 10 min": silent until now (offline), or how long the outage lasted (online). */
  silentFor: string;
  /** "-1.29210, 36.82190", or null when no fix is known. */
  position: string | null;
  place: string | null;
  battery: string | null;
  signal: string | null;
  cause: string;
  nextStep: string;
  /** Incidents: how many devices, on what, and (resolved) how many are still offline. */
  count: number;
  scope: string;
  stillOffline: number;
  /** Flapping: how many changes inside how long. */
  flips: number;
  window: string;
  /** Warnings: "1 d 6 h" until the battery's fitted line reaches 0 % (null: it is low, not falling). */
  hoursLeft: string | null;
  /** Warnings: how long the activity counter has been 0. */
  stillFor: string;
  /** Warnings: "14 dB", how far the signal's fitted line fell. */
  dropDb: string;
}

/** An early warning's sentences (monitor/warnings/): no cause yet, a next step of its own. */
export interface WarningTemplate {
  subject: (v: View) => string;
  message: (v: View) => string;
  nextStep: string;
}

/** What a letter's sentences get (monitor/letters/compose.ts), every value formatted for the reader. */
export interface LetterView extends View {
  /** The contact's name, for the greeting. */
  contact: string;
  /** "2026-01-01 15:05 Africa/Nairobi (2026-01-01 12:05 UTC)", or null if never heard. */
  sinceLocal: string | null;
  /** Device status: unknown, online, late, offline. */
  status: string;
}

/** What an incident letter's sentences get (monitor/letters/incident.ts), every value formatted for the reader. */
export interface IncidentLetterView {
  /** The contact's name, for the greeting. */
  contact: string;
  /** Members of the incident, and how many of them are still silent. */
  count: number;
  silent: number;
  /** "radio cell 639-02-40021" / "mobile network 639-02"; null for a customer-wide incident (no network in common). */
  network: string | null;
  /** The same as a phrase after "all": "in radio cell 639-02-40021" (templates `scope`); null with `network`. */
  scope: string | null;
  /** Earliest member lastSeen: "2026-01-15 12:00 Europe/Berlin (2026-01-15 11:00 UTC)", and UTC alone for a subject. */
  sinceLocal: string;
  since: string;
  /** "2 h 10 min" from `since` to when the letter is written. */
  silentFor: string;
  /** "within 3 km of Nairobi, Kenya", or of the centre's coordinates when no place is near; null when no member has a fix. */
  area: string | null;
  cause: string;
  nextStep: string;
}

/** One language. Sentences are whole functions so each language orders words its own way. */
export interface Templates {
  units: readonly [string, string, string, string];
  labels: {
    device: string;
    iccid: string;
    lastSeen: string;
    lastPosition: string;
    battery: string;
    signal: string;
    cause: string;
    nextStep: string;
    devices: string;
    stillOffline: string;
    alertId: string;
    unknown: string;
    never: string;
    andMore: (n: number) => string;
    ago: (d: string) => string;
    backOnline: string;
  };
  causes: Record<Cause, string>;
  nextSteps: Record<Cause, string>;
  scope: { customer: (name: string) => string; network: (key: string) => string; cell: (key: string) => string };
  offline: { subject: (v: View) => string; message: (v: View) => string };
  online: { subject: (v: View) => string; message: (v: View) => string };
  flapping: { subject: (v: View) => string; message: (v: View) => string };
  reminder: { subject: (v: View) => string; message: (v: View) => string };
  incidentOpened: { subject: (v: View) => string; message: (v: View) => string };
  incidentResolved: { subject: (v: View) => string; message: (v: View) => string };
  batteryLow: WarningTemplate;
  noMotion: WarningTemplate;
  signalFading: WarningTemplate;
  /** Compass points from north clockwise, for "12 km NE of Nairobi". */
  compass: readonly [string, string, string, string, string, string, string, string];
  /** A place near a position: `km` already rounded, `country` in this language. */
  near: (km: number, direction: string, name: string, country: string) => string;
  /** A letter from the support team to a person at the customer (monitor/letters/compose.ts). */
  letter: {
    /** Device and incident letters alike: only the contact's name. */
    greeting: (v: Pick<LetterView, 'contact'>) => string;
    subject: (v: LetterView) => string;
    /** The first paragraph: what happened and since when. */
    opening: (v: LetterView) => string;
    mapLink: string;
    signOff: readonly string[];
    /** A letter about an incident: many devices of the customer silent at once on one cell or network. */
    incident: {
      subject: (v: IncidentLetterView) => string;
      /** What happened, where in the network, since when, and how many are still silent. */
      opening: (v: IncidentLetterView) => string;
      cell: (key: string) => string;
      network: (key: string) => string;
      /** `km` already rounded up; `place` as `near` wrote it, or coordinates. */
      within: (km: number, place: string) => string;
      labels: { since: string; area: string; network: string; devices: string; silent: string; back: string; link: string };
    };
  };
}
