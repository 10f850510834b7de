import type { Templates, View } from './templates.ts';

const where = (v: View) => (v.position ? (v.place ? `${v.place} (${v.position})` : v.position) : 'an unknown position');
const u = (s: string | null) => s ?? 'unknown';

export const en: Templates = {
  units: ['d', 'h', 'min', 'less than a minute'],
  labels: {
    device: 'Device',
    iccid: 'ICCID',
    lastSeen: 'Last seen',
    lastPosition: 'Last position',
    battery: 'Battery',
    signal: 'Signal',
    cause: 'Probable cause',
    nextStep: 'Next step',
    devices: 'Devices',
    stillOffline: 'Still offline',
    alertId: 'Alert id',
    unknown: 'unknown',
    never: 'never',
    andMore: (n) => `… and ${n} more`,
    ago: (d) => `${d} ago`,
    backOnline: 'Back online',
  },
  causes: {
    battery_depleted: 'battery depleted',
    coverage_lost: 'out of mobile coverage',
    no_motion: 'no motion for a long time (collar dropped or animal not moving)',
    powered_off: 'switched off',
    connection_lost: 'connection to the network lost',
    sim_deactivated: 'SIM card deactivated',
    network_outage: 'mobile network outage',
    never_reported: 'it has never reported',
    device_unresponsive: 'connected to the mobile network but the device software does not report',
    detached: 'not attached to the mobile network',
    coverage_unstable: 'at the edge of coverage: it keeps re-attaching to the network',
    unknown: 'not yet known',
  },
  nextSteps: {
    battery_depleted: 'Replace or recharge the battery; the device reports again once it has power.',
    coverage_lost: 'Wait for the device to move back into coverage; if it stays silent for more than a day, check the area on the map.',
    no_motion: 'Check on the animal or the collar at the last position.',
    powered_off: 'Check whether the device was switched off on purpose, and switch it on again.',
    connection_lost: 'This usually clears by itself within minutes; if not, check the power supply and antenna of the device.',
    sim_deactivated: 'Reactivate the SIM card in your connectivity portal.',
    network_outage:
      'Nothing to do on the devices: they report again when the network is back. Our network team is on it; we will write again when it is over.',
    never_reported: 'Check that the device is switched on and set up with the right server address and credentials.',
    device_unresponsive: 'The network sees the device; restart it, and check a recent firmware or configuration change.',
    detached: 'Check the battery and whether the device is out of coverage at its last position.',
    coverage_unstable: 'Move the device or its antenna to a place with better coverage if it keeps dropping out.',
    unknown: 'If it does not report again soon, check its power and coverage at the last known position.',
  },
  scope: {
    customer: (name) => `of ${name}`,
    network: (key) => `on mobile network ${key}`,
    cell: (key) => `in radio cell ${key}`,
  },
  offline: {
    subject: (v) => `Offline: ${v.device} silent for ${v.silentFor}`,
    message: (v) =>
      `${v.who} has been silent since ${v.since ?? 'it was set up'} (for ${v.silentFor}); ` +
      `last seen at ${where(v)}, battery ${u(v.battery)}, signal ${u(v.signal)}; probable cause: ${v.cause}.`,
  },
  online: {
    subject: (v) => `Back online: ${v.device} after ${v.silentFor}`,
    message: (v) => `${v.who} is reporting again after ${v.silentFor} of silence.`,
  },
  flapping: {
    subject: (v) => `Unstable: ${v.device} keeps switching between online and offline`,
    message: (v) =>
      `${v.who} went offline and online ${v.flips} times within ${v.window}; ` +
      `we will not alert about it again until its connection is stable, unless it stays offline.`,
  },
  reminder: {
    subject: (v) => `Still offline: ${v.device} silent for ${v.silentFor}`,
    message: (v) =>
      `Reminder: ${v.who} is still silent, since ${v.since ?? 'it was set up'} (for ${v.silentFor}); ` +
      `last seen at ${where(v)}, battery ${u(v.battery)}, signal ${u(v.signal)}; probable cause: ${v.cause}.`,
  },
  incidentOpened: {
    subject: (v) => `Outage: ${v.count} devices offline (${v.scope})`,
    message: (v) => `${v.count} devices ${v.scope} went offline within a few seconds of each other; probable cause: ${v.cause}.`,
  },
  incidentResolved: {
    subject: (v) => `Outage over: ${v.count - v.stillOffline} of ${v.count} devices back online`,
    message: (v) =>
      `The outage ${v.scope} is over: ${v.count - v.stillOffline} of ${v.count} devices are reporting again, ${v.stillOffline} still offline.`,
  },
  batteryLow: {
    subject: (v) => `Battery low: ${v.device} ${v.hoursLeft ? `runs out in about ${v.hoursLeft}` : `at ${u(v.battery)}`}`,
    message: (v) =>
      `${v.who} is still reporting, but its battery (${u(v.battery)}) ` +
      `${v.hoursLeft ? `will run out in about ${v.hoursLeft} at the present rate` : 'is nearly empty'}; last seen at ${where(v)}.`,
    nextStep: 'Replace or recharge the battery before it runs out, while the device can still be found at its last position.',
  },
  noMotion: {
    subject: (v) => `No motion: ${v.device} has not moved for ${v.stillFor}`,
    message: (v) =>
      `${v.who} is still reporting but has shown no motion for ${v.stillFor}; last position ${where(v)}. ` +
      'This can be a dropped collar or an animal that is not moving.',
    nextStep: 'Check on the animal or the collar at the last position.',
  },
  signalFading: {
    subject: (v) => `Signal fading: ${v.device} at ${u(v.signal)}`,
    message: (v) =>
      `${v.who} is still reporting, but its signal fell by ${v.dropDb} to ${u(v.signal)}; ` +
      `it may soon be out of coverage; last seen at ${where(v)}.`,
    nextStep: 'Expect gaps in its reports; if it keeps fading, move the device or its antenna to a place with better coverage.',
  },
  compass: ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'],
  near: (km, dir, name, country) => (km < 2 ? `${name}, ${country}` : `${km} km ${dir} of ${name}, ${country}`),
  letter: {
    greeting: (v) => `Dear ${v.contact},`,
    subject: (v) =>
      v.status === 'online'
        ? `${v.device}: reporting, last heartbeat ${v.since ?? 'never'}`
        : `${v.device}: silent for ${v.silentFor} – ${v.cause}`,
    opening: (v) =>
      v.sinceLocal === null
        ? `your device ${v.who} has not reported since it was set up.`
        : v.status === 'online'
          ? `your device ${v.who} is reporting; its last heartbeat arrived at ${v.sinceLocal}.`
          : `your device ${v.who} has not reported since ${v.sinceLocal}, for ${v.silentFor} now.`,
    mapLink: 'The device on our map',
    signOff: ['Kind regards,', 'Your lastseen support team'],
    incident: {
      subject: (v) => `${v.count} of your devices stopped reporting${v.network ? ` (${v.network})` : ''} – ${v.cause}`,
      opening: (v) =>
        `${v.count} of your devices stopped reporting at about the same time${v.scope ? `, all ${v.scope}` : ''}, ` +
        `the first at ${v.sinceLocal}. ` +
        (v.silent === 0
          ? 'All of them are reporting again.'
          : v.silent === v.count
            ? `None of them has reported since (${v.silentFor} now).`
            : `${v.silent} of them ${v.silent === 1 ? 'is' : 'are'} still silent, ${v.count - v.silent} ${v.count - v.silent === 1 ? 'is' : 'are'} reporting again.`),
      cell: (key) => `radio cell ${key}`,
      network: (key) => `mobile network ${key}`,
      within: (km, place) => `within ${km} km of ${place}`,
      labels: {
        since: 'Silent since',
        area: 'Where',
        network: 'Network',
        devices: 'Devices (silent ones first)',
        silent: 'silent since',
        back: 'reporting again',
        link: 'The incident on our map',
      },
    },
  },
};
