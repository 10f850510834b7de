// Reads and parses the bundled GeoNames places off the main thread (monitor/geo/gazetteer.ts):
// 17 MB of JSON take 1–2 s to parse, which on the main thread would stall heartbeats and
// deadlines. Posts back columns: coordinates as transferable Float32Arrays, names and country
// codes as one "\n"-joined string each (one string clones faster than 171 000 small ones).
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const rows = JSON.parse(readFileSync(workerData.file, 'utf8'));
const lat = new Float32Array(rows.length);
const lon = new Float32Array(rows.length);
const names = new Array(rows.length);
const countries = new Array(rows.length);
for (let i = 0; i < rows.length; i++) {
  lat[i] = Number(rows[i].lat);
  lon[i] = Number(rows[i].lng);
  names[i] = String(rows[i].name).replace(/\n/g, ' ');
  countries[i] = String(rows[i].country);
}
parentPort.postMessage({ lat, lon, names: names.join('\n'), countries: countries.join('\n') }, [lat.buffer, lon.buffer]);
