import type { Templates, View } from './templates.ts';

const where = (v: View) => (v.position ? (v.place ? `${v.place} (${v.position})` : v.position) : 'okänd position');
const u = (s: string | null) => s ?? 'okänt';

export const sv: Templates = {
  units: ['d', 'tim', 'min', 'mindre än en minut'],
  labels: {
    device: 'Enhet',
    iccid: 'ICCID',
    lastSeen: 'Senast sedd',
    lastPosition: 'Senaste position',
    battery: 'Batteri',
    signal: 'Signal',
    cause: 'Trolig orsak',
    nextStep: 'Nästa steg',
    devices: 'Enheter',
    stillOffline: 'Fortfarande offline',
    alertId: 'Larm-id',
    unknown: 'okänt',
    never: 'aldrig',
    andMore: (n) => `… och ${n} till`,
    ago: (d) => `för ${d} sedan`,
    backOnline: 'Online igen',
  },
  causes: {
    battery_depleted: 'batteriet är slut',
    coverage_lost: 'ingen mobiltäckning',
    no_motion: 'ingen rörelse på länge (halsbandet har lossnat eller djuret rör sig inte)',
    powered_off: 'avstängd',
    connection_lost: 'anslutningen till nätet bröts',
    sim_deactivated: 'SIM-kortet är avaktiverat',
    network_outage: 'avbrott i mobilnätet',
    never_reported: 'den har aldrig rapporterat',
    device_unresponsive: 'ansluten till mobilnätet men enhetens programvara rapporterar inte',
    detached: 'inte ansluten till mobilnätet',
    coverage_unstable: 'i utkanten av täckningen: den ansluter om till nätet gång på gång',
    unknown: 'ännu okänd',
  },
  nextSteps: {
    battery_depleted: 'Byt eller ladda batteriet; enheten rapporterar igen när den har ström.',
    coverage_lost: 'Vänta tills enheten är inom täckning igen; är den tyst mer än ett dygn, kontrollera området på kartan.',
    no_motion: 'Kontrollera djuret eller halsbandet vid den senaste positionen.',
    powered_off: 'Kontrollera om enheten stängdes av med avsikt och slå på den igen.',
    connection_lost: 'Det löser sig oftast av sig självt inom några minuter; annars, kontrollera enhetens strömförsörjning och antenn.',
    sim_deactivated: 'Återaktivera SIM-kortet i er konnektivitetsportal.',
    network_outage:
      'Inget att göra på enheterna: de rapporterar igen när nätet är tillbaka. Vår nätdrift arbetar med det; vi hör av oss när störningen är över.',
    never_reported: 'Kontrollera att enheten är påslagen och konfigurerad med rätt serveradress och inloggningsuppgifter.',
    device_unresponsive: 'Nätet ser enheten; starta om den och kontrollera en nyligen gjord ändring av firmware eller inställningar.',
    detached: 'Kontrollera batteriet och om enheten är utanför täckning vid sin senaste position.',
    coverage_unstable: 'Flytta enheten eller dess antenn till en plats med bättre täckning om avbrotten fortsätter.',
    unknown: 'Om den inte hörs av snart, kontrollera ström och täckning vid den senast kända positionen.',
  },
  scope: {
    customer: (name) => `hos ${name}`,
    network: (key) => `i mobilnätet ${key}`,
    cell: (key) => `i radiocellen ${key}`,
  },
  offline: {
    subject: (v) => `Offline: ${v.device} tyst i ${v.silentFor}`,
    message: (v) =>
      `${v.who} har inte hörts av sedan ${v.since ?? 'den installerades'} (i ${v.silentFor}); ` +
      `senast sedd vid ${where(v)}, batteri ${u(v.battery)}, signal ${u(v.signal)}; trolig orsak: ${v.cause}.`,
  },
  online: {
    subject: (v) => `Online igen: ${v.device} efter ${v.silentFor}`,
    message: (v) => `${v.who} rapporterar igen efter ${v.silentFor} utan kontakt.`,
  },
  flapping: {
    subject: (v) => `Instabil: ${v.device} växlar hela tiden mellan online och offline`,
    message: (v) =>
      `${v.who} har växlat mellan offline och online ${v.flips} gånger inom ${v.window}; ` +
      `vi larmar inte om den igen förrän anslutningen är stabil, utom om den förblir offline.`,
  },
  reminder: {
    subject: (v) => `Fortfarande offline: ${v.device} tyst i ${v.silentFor}`,
    message: (v) =>
      `Påminnelse: ${v.who} har fortfarande inte hörts av sedan ${v.since ?? 'den installerades'} (i ${v.silentFor}); ` +
      `senast sedd vid ${where(v)}, batteri ${u(v.battery)}, signal ${u(v.signal)}; trolig orsak: ${v.cause}.`,
  },
  incidentOpened: {
    subject: (v) => `Störning: ${v.count} enheter offline (${v.scope})`,
    message: (v) => `${v.count} enheter ${v.scope} gick offline inom några sekunder från varandra; trolig orsak: ${v.cause}.`,
  },
  incidentResolved: {
    subject: (v) => `Störningen är över: ${v.count - v.stillOffline} av ${v.count} enheter online igen`,
    message: (v) =>
      `Störningen ${v.scope} är över: ${v.count - v.stillOffline} av ${v.count} enheter rapporterar igen, ${v.stillOffline} är fortfarande offline.`,
  },
  batteryLow: {
    subject: (v) => `Svagt batteri: ${v.device} ${v.hoursLeft ? `räcker ungefär ${v.hoursLeft} till` : `på ${u(v.battery)}`}`,
    message: (v) =>
      `${v.who} rapporterar fortfarande, men batteriet (${u(v.battery)}) ` +
      `${v.hoursLeft ? `tar slut om ungefär ${v.hoursLeft} i nuvarande takt` : 'är nästan tomt'}; senast sedd vid ${where(v)}.`,
    nextStep: 'Byt eller ladda batteriet innan det tar slut, medan enheten fortfarande går att hitta vid sin senaste position.',
  },
  noMotion: {
    subject: (v) => `Ingen rörelse: ${v.device} har inte rört sig på ${v.stillFor}`,
    message: (v) =>
      `${v.who} rapporterar fortfarande men har inte visat någon rörelse på ${v.stillFor}; senaste position ${where(v)}. ` +
      'Det kan vara ett tappat halsband eller ett djur som inte rör sig.',
    nextStep: 'Kontrollera djuret eller halsbandet vid den senaste positionen.',
  },
  signalFading: {
    subject: (v) => `Signalen försvagas: ${v.device} på ${u(v.signal)}`,
    message: (v) =>
      `${v.who} rapporterar fortfarande, men signalen föll med ${v.dropDb} till ${u(v.signal)}; ` +
      `den kan snart hamna utanför täckningen; senast sedd vid ${where(v)}.`,
    nextStep:
      'Räkna med luckor i rapporterna; om signalen fortsätter att försvagas, flytta enheten eller antennen till en plats med bättre täckning.',
  },
  compass: ['N', 'NO', 'O', 'SO', 'S', 'SV', 'V', 'NV'],
  near: (km, dir, name, country) => (km < 2 ? `${name}, ${country}` : `${km} km ${dir} om ${name}, ${country}`),
  letter: {
    greeting: (v) => `Hej ${v.contact},`,
    subject: (v) =>
      v.status === 'online' ? `${v.device}: rapporterar, senast ${v.since ?? 'aldrig'}` : `${v.device}: tyst i ${v.silentFor} – ${v.cause}`,
    opening: (v) =>
      v.sinceLocal === null
        ? `er enhet ${v.who} har inte rapporterat sedan den installerades.`
        : v.status === 'online'
          ? `er enhet ${v.who} rapporterar; det senaste livstecknet kom ${v.sinceLocal}.`
          : `er enhet ${v.who} har inte hörts av sedan ${v.sinceLocal}, nu i ${v.silentFor}.`,
    mapLink: 'Enheten på vår karta',
    signOff: ['Vänliga hälsningar', 'Er lastseen-support'],
    incident: {
      subject: (v) => `${v.count} av era enheter har slutat rapportera${v.network ? ` (${v.network})` : ''} – ${v.cause}`,
      opening: (v) =>
        `${v.count} av era enheter slutade rapportera ungefär samtidigt${v.scope ? `, alla ${v.scope}` : ''}, ` +
        `den första tystnade ${v.sinceLocal}. ` +
        (v.silent === 0
          ? 'Alla rapporterar igen.'
          : v.silent === v.count
            ? `Ingen av dem har rapporterat sedan dess (nu i ${v.silentFor}).`
            : `${v.silent} av dem är fortfarande tysta, ${v.count - v.silent} rapporterar igen.`),
      cell: (key) => `radiocell ${key}`,
      network: (key) => `mobilnät ${key}`,
      within: (km, place) => `inom ${km} km från ${place}`,
      labels: {
        since: 'Tyst sedan',
        area: 'Var',
        network: 'Nät',
        devices: 'Enheter (tysta först)',
        silent: 'tyst sedan',
        back: 'rapporterar igen',
        link: 'Händelsen på vår karta',
      },
    },
  },
};
