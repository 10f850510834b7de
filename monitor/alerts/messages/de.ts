import type { Templates, View } from './templates.ts';

const where = (v: View) => (v.position ? (v.place ? `${v.place} (${v.position})` : v.position) : 'unbekannter Position');
const u = (s: string | null) => s ?? 'unbekannt';

export const de: Templates = {
  units: ['Tg.', 'Std.', 'Min.', 'weniger als einer Minute'],
  labels: {
    device: 'Gerät',
    iccid: 'ICCID',
    lastSeen: 'Zuletzt gesehen',
    lastPosition: 'Letzte Position',
    battery: 'Akku',
    signal: 'Signal',
    cause: 'Vermutliche Ursache',
    nextStep: 'Nächster Schritt',
    devices: 'Geräte',
    stillOffline: 'Noch offline',
    alertId: 'Alarm-ID',
    unknown: 'unbekannt',
    never: 'nie',
    andMore: (n) => `… und ${n} weitere`,
    ago: (d) => `vor ${d}`,
    backOnline: 'Wieder online',
  },
  causes: {
    battery_depleted: 'Akku leer',
    coverage_lost: 'kein Mobilfunkempfang',
    no_motion: 'seit Langem keine Bewegung (Halsband abgefallen oder Tier reglos)',
    powered_off: 'ausgeschaltet',
    connection_lost: 'Verbindung zum Netz verloren',
    sim_deactivated: 'SIM-Karte deaktiviert',
    network_outage: 'Ausfall des Mobilfunknetzes',
    never_reported: 'hat sich noch nie gemeldet',
    device_unresponsive: 'im Mobilfunknetz angemeldet, aber die Gerätesoftware meldet sich nicht',
    detached: 'nicht im Mobilfunknetz angemeldet',
    coverage_unstable: 'am Rand der Netzabdeckung: meldet sich immer wieder neu im Netz an',
    unknown: 'noch unbekannt',
  },
  nextSteps: {
    battery_depleted: 'Akku tauschen oder laden; das Gerät meldet sich wieder, sobald es Strom hat.',
    coverage_lost: 'Abwarten, bis das Gerät wieder Empfang hat; bleibt es länger als einen Tag stumm, die Gegend auf der Karte prüfen.',
    no_motion: 'Tier bzw. Halsband an der letzten Position überprüfen.',
    powered_off: 'Prüfen, ob das Gerät absichtlich ausgeschaltet wurde, und es wieder einschalten.',
    connection_lost: 'Behebt sich meist innerhalb von Minuten von selbst; sonst Stromversorgung und Antenne des Geräts prüfen.',
    sim_deactivated: 'SIM-Karte im Konnektivitätsportal wieder aktivieren.',
    network_outage:
      'An den Geräten ist nichts zu tun: Sie melden sich, sobald das Netz wieder da ist. Unser Netzbetrieb arbeitet daran; wir melden uns, wenn die Störung vorbei ist.',
    never_reported:
      'Prüfen, ob das Gerät eingeschaltet und mit der richtigen Serveradresse und den richtigen Zugangsdaten eingerichtet ist.',
    device_unresponsive: 'Das Netz sieht das Gerät; Gerät neu starten und eine kürzliche Firmware- oder Konfigurationsänderung prüfen.',
    detached: 'Akku prüfen und ob das Gerät an seiner letzten Position außerhalb der Netzabdeckung ist.',
    coverage_unstable: 'Gerät oder Antenne an einen Ort mit besserer Abdeckung bringen, wenn die Aussetzer anhalten.',
    unknown: 'Meldet es sich nicht bald wieder, Stromversorgung und Empfang an der letzten bekannten Position prüfen.',
  },
  scope: {
    customer: (name) => `von ${name}`,
    network: (key) => `im Mobilfunknetz ${key}`,
    cell: (key) => `in der Funkzelle ${key}`,
  },
  offline: {
    subject: (v) => `Offline: ${v.device} seit ${v.silentFor} ohne Meldung`,
    message: (v) =>
      `${v.who} meldet sich seit ${v.since ?? 'der Einrichtung'} nicht mehr (seit ${v.silentFor}); ` +
      `zuletzt gesehen bei ${where(v)}, Akku ${u(v.battery)}, Signal ${u(v.signal)}; vermutliche Ursache: ${v.cause}.`,
  },
  online: {
    subject: (v) => `Wieder online: ${v.device} nach ${v.silentFor}`,
    message: (v) => `${v.who} meldet sich wieder, nach ${v.silentFor} ohne Meldung.`,
  },
  flapping: {
    subject: (v) => `Instabil: ${v.device} wechselt ständig zwischen online und offline`,
    message: (v) =>
      `${v.who} war innerhalb von ${v.window} ${v.flips}-mal abwechselnd offline und online; ` +
      `bis die Verbindung stabil ist, melden wir uns dazu nicht mehr, außer wenn es offline bleibt.`,
  },
  reminder: {
    subject: (v) => `Weiterhin offline: ${v.device} seit ${v.silentFor} ohne Meldung`,
    message: (v) =>
      `Erinnerung: ${v.who} meldet sich weiterhin nicht, seit ${v.since ?? 'der Einrichtung'} (seit ${v.silentFor}); ` +
      `zuletzt gesehen bei ${where(v)}, Akku ${u(v.battery)}, Signal ${u(v.signal)}; vermutliche Ursache: ${v.cause}.`,
  },
  incidentOpened: {
    subject: (v) => `Störung: ${v.count} Geräte offline (${v.scope})`,
    message: (v) => `${v.count} Geräte ${v.scope} sind innerhalb weniger Sekunden offline gegangen; vermutliche Ursache: ${v.cause}.`,
  },
  incidentResolved: {
    subject: (v) => `Störung behoben: ${v.count - v.stillOffline} von ${v.count} Geräten wieder online`,
    message: (v) =>
      `Die Störung ${v.scope} ist vorbei: ${v.count - v.stillOffline} von ${v.count} Geräten melden sich wieder, ${v.stillOffline} noch offline.`,
  },
  batteryLow: {
    subject: (v) => `Akku schwach: ${v.device} ${v.hoursLeft ? `hält noch etwa ${v.hoursLeft}` : `bei ${u(v.battery)}`}`,
    message: (v) =>
      `${v.who} meldet sich noch, aber der Akku (${u(v.battery)}) ` +
      `${v.hoursLeft ? `ist beim jetzigen Verbrauch in etwa ${v.hoursLeft} leer` : 'ist fast leer'}; zuletzt gesehen bei ${where(v)}.`,
    nextStep: 'Akku tauschen oder laden, bevor er leer ist – solange das Gerät an seiner letzten Position noch zu finden ist.',
  },
  noMotion: {
    subject: (v) => `Keine Bewegung: ${v.device} seit ${v.stillFor} reglos`,
    message: (v) =>
      `${v.who} meldet sich noch, zeigt aber seit ${v.stillFor} keine Bewegung; letzte Position ${where(v)}. ` +
      'Das kann ein abgefallenes Halsband oder ein reglos liegendes Tier sein.',
    nextStep: 'Tier bzw. Halsband an der letzten Position überprüfen.',
  },
  signalFading: {
    subject: (v) => `Signal schwindet: ${v.device} bei ${u(v.signal)}`,
    message: (v) =>
      `${v.who} meldet sich noch, aber sein Signal fiel um ${v.dropDb} auf ${u(v.signal)}; ` +
      `es ist womöglich bald außerhalb der Netzabdeckung; zuletzt gesehen bei ${where(v)}.`,
    nextStep: 'Mit Lücken in den Meldungen rechnen; schwindet es weiter, Gerät oder Antenne an einen Ort mit besserem Empfang bringen.',
  },
  compass: ['N', 'NO', 'O', 'SO', 'S', 'SW', 'W', 'NW'],
  near: (km, dir, name, country) => (km < 2 ? `${name}, ${country}` : `${km} km ${dir} von ${name}, ${country}`),
  letter: {
    greeting: (v) => `Guten Tag ${v.contact},`,
    subject: (v) =>
      v.status === 'online'
        ? `${v.device}: meldet sich, zuletzt ${v.since ?? 'nie'}`
        : `${v.device}: seit ${v.silentFor} ohne Meldung – ${v.cause}`,
    opening: (v) =>
      v.sinceLocal === null
        ? `Ihr Gerät ${v.who} hat sich seit der Einrichtung noch nie gemeldet.`
        : v.status === 'online'
          ? `Ihr Gerät ${v.who} meldet sich; die letzte Meldung kam am ${v.sinceLocal}.`
          : `Ihr Gerät ${v.who} meldet sich seit ${v.sinceLocal} nicht mehr (jetzt ${v.silentFor} ohne Meldung).`,
    mapLink: 'Das Gerät auf unserer Karte',
    signOff: ['Mit freundlichen Grüßen', 'Ihr lastseen-Support'],
    incident: {
      subject: (v) => `${v.count} Ihrer Geräte melden sich nicht mehr${v.network ? ` (${v.network})` : ''} – ${v.cause}`,
      opening: (v) =>
        `${v.count} Ihrer Geräte melden sich seit etwa derselben Zeit nicht mehr${v.scope ? `, alle ${v.scope}` : ''}; ` +
        `das erste verstummte am ${v.sinceLocal}. ` +
        (v.silent === 0
          ? 'Alle melden sich inzwischen wieder.'
          : v.silent === v.count
            ? `Keines hat sich seitdem gemeldet (jetzt ${v.silentFor}).`
            : `${v.silent} davon ${v.silent === 1 ? 'ist' : 'sind'} noch stumm, ${v.count - v.silent} ${v.count - v.silent === 1 ? 'meldet' : 'melden'} sich wieder.`),
      cell: (key) => `Funkzelle ${key}`,
      network: (key) => `Mobilfunknetz ${key}`,
      within: (km, place) => `im Umkreis von ${km} km um ${place}`,
      labels: {
        since: 'Ohne Meldung seit',
        area: 'Wo',
        network: 'Netz',
        devices: 'Geräte (stumme zuerst)',
        silent: 'ohne Meldung seit',
        back: 'meldet sich wieder',
        link: 'Die Störung auf unserer Karte',
      },
    },
  },
};
