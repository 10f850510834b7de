/**
 * Three `lastseen monitor` workers on one Mosquitto's shared subscription with LASTSEEN_STATE on
 * one Debian redis-server and LASTSEEN_REGISTRY on one PostgreSQL; devices publish QoS 1
 * heartbeats; at a random moment one worker, or the registry, is hit (./faults.ts: kill, gone, stop,
 * postgres; each fault's file says what it does and what falls silent), and the counts are
 * printed, then the verdict: PASS, or FAIL with each want missed and exit code 1 (./verdict.ts
 * says each count and its want).
 *
 *   npm run sim:cluster-failover -- [devices=20000] [silent=devices/10] [kill|gone|stop|postgres] [periodMs=1000]
 *
 * Any other fault name runs the kill. A period longer than 1 s (the fleet's rate, devices /
 * period, within what the machine takes) stretches offlineAfter to three periods and the load
 * before the fault to six.
 *
 * The registry is one PostgreSQL (started like the tests' own): the customer and the devices are
 * created once, through worker 0's API (bulk onboarding); the other workers learn them from the
 * change feed, and the load starts only once every worker tracks them all. Mosquitto logins stay
 * outside the registry (LASTSEEN_BROKER_AUTH=none, one fleet login made here), so the broker is
 * the same for every fault.
 */
import { faults, isFaultName } from './faults.ts';
import { printCounts, printVerdict, progress } from './report.ts';
import { runFailover } from './run.ts';

const [devicesArg, silentArg, faultArg, periodArg] = process.argv.slice(2);
const devices = Number(devicesArg ?? 20_000);
const silent = Number(silentArg ?? Math.round(devices / 10));
const fault = faultArg !== undefined && isFaultName(faultArg) ? faultArg : 'kill';
const periodMs = Number(periodArg ?? 1000);
const offlineAfterS = Math.max(6, Math.ceil((3 * periodMs) / 1000));
const loadMs = Math.max(6000, 6 * periodMs);
const stopMs = Math.max(20_000, 2000 + offlineAfterS * 1000 + 4000);
const counts = await runFailover({ devices, silent, fault, periodMs, offlineAfterS, loadMs, stopMs, log: progress });
printCounts(counts);
// The exit code says it too, so a script (or CI) running the driver needs no JSON reader.
if (!printVerdict(counts, faults[fault].wants)) process.exitCode = 1;
