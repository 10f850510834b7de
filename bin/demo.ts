import mqtt from 'mqtt';
import type { RunningSystem } from './start.ts';

/**
 * A minimal demo fleet until the simulators land: two giraffe collars that report every 5 s;
 * one stops after 30 s so the map shows an offline device within a minute.
 * Returns a function that stops the fleet.
 */
export async function runDemo(system: RunningSystem): Promise<() => Promise<void>> {
  const { registry } = system;
  if (!registry.getCustomer('demo-wildlife')) registry.createCustomer({ id: 'demo-wildlife', name: 'Demo Wildlife Trust' });
  const devices = [
    { id: 'giraffe-amani', name: 'Amani (giraffe)', lat: -1.4, lon: 35.1, stopAfterS: Infinity },
    { id: 'giraffe-zuri', name: 'Zuri (giraffe)', lat: -1.45, lon: 35.2, stopAfterS: 30 },
  ];
  const clients: mqtt.MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (const d of devices) {
    // Demo devices get a fresh token on every run: the registry keeps only hashes.
    if (registry.getDevice(d.id)) continue;
    const { device, token } = registry.createDevice({ id: d.id, customerId: 'demo-wildlife', name: d.name, interval: 5, species: 'giraffe' });
    system.track(device);
    const client = mqtt.connect(`mqtt://127.0.0.1:${system.mqttPort}`, { username: d.id, password: token, reconnectPeriod: 0 });
    clients.push(client);
    let seq = 0;
    const started = Date.now();
    const t = setInterval(() => {
      if ((Date.now() - started) / 1000 > d.stopAfterS) return clearInterval(t);
      const hb = { seq: seq++, interval: 5, lat: d.lat + seq * 0.0005, lon: d.lon + seq * 0.0003, battery: 80 - seq * 0.1, rssi: -85 };
      client.publish(`devices/${d.id}/heartbeat`, JSON.stringify(hb), { qos: 1 });
    }, 5000);
    timers.push(t);
  }
  process.stdout.write(`  demo fleet:   ${devices.length} giraffes; one goes silent after 30 s\n`);
  return async () => {
    for (const t of timers) clearInterval(t);
    await Promise.all(clients.map((c) => c.endAsync()));
  };
}
