import { Command } from 'commander';
import { ConfigError } from '../monitor/config.ts';
import { startDemoFleet } from '../simulators/demo.ts';
import { createDemoPeople } from '../simulators/demo-people.ts';
import { registerSimulateCommand } from '../simulators/cli.ts';
import { OnboardFileError, onboardFile } from './onboard.ts';
import type { RunningMonitor } from './monitor.ts';
import { startSystem, type RunningSystem } from './start.ts';

const program = new Command();
program
  .name('lastseen')
  .description(
    'Connectivity monitor for IoT devices and animal trackers: MQTT heartbeats in, exact offline detection, alerts and a live map out.',
  )
  .showHelpAfterError();

program
  .command('start')
  .description('Run the all-in-one: MQTT broker, monitor and web map on the embedded store (configured by LASTSEEN_* variables)')
  .action(async () => {
    const system = await boot(() => startSystem());
    announce(system);
    stopOnSignals(system);
  });

program
  .command('monitor')
  .description(
    'Run the monitor and web map attached to another MQTT broker (LASTSEEN_BROKER_URL; devices log in there, see LASTSEEN_BROKER_AUTH); no MQTT listener of its own',
  )
  .action(async () => {
    // Loaded only here: the other commands start without the MQTT client and dynsec modules.
    const { startAttachedMonitor } = await import('./monitor.ts');
    const monitor = await boot(() => startAttachedMonitor());
    announce(monitor);
    stopOnSignals(monitor);
  });

program
  .command('broker')
  .description(
    "Run lastseen's MQTT broker alone (device logins from the registry in LASTSEEN_DATA_DIR, ACL, presence events); `lastseen monitor` attaches to it as ~monitor with LASTSEEN_MONITOR_TOKEN",
  )
  .action(async () => {
    const { startBroker } = await import('./broker.ts');
    const broker = await boot(() => startBroker());
    const host = broker.config.host;
    process.stdout.write(
      [
        'lastseen broker is running',
        `  MQTT:         mqtt://${host}:${broker.mqttPort}`,
        ...(broker.mqttsPort !== null ? [`  MQTT TLS:     mqtts://${host}:${broker.mqttsPort}`] : []),
        `  health:       http://${host}:${broker.httpPort}/healthz`,
        `  data dir:     ${broker.config.dataDir}`,
        '',
      ].join('\n'),
    );
    stopOnSignals(broker);
  });

program
  .command('demo')
  .description('Run the all-in-one with a simulated fleet, so alerts, diagnosis and the map have something to show')
  .action(async () => {
    const system = await boot(() => startSystem());
    announce(system);
    const fleet = await startDemoFleet({
      serverUrl: `http://127.0.0.1:${system.httpPort}`,
      mqttUrl: `mqtt://127.0.0.1:${system.mqttPort}`,
      adminToken: system.adminToken,
      // The animals' world runs 90× faster so batteries die and herds move within a minute;
      // heartbeat times and intervals stay real, so deadlines are real.
      speed: 90,
    });
    const people = await createDemoPeople(`http://127.0.0.1:${system.httpPort}`, system.adminToken);
    process.stdout.write(
      `  demo fleet:   giraffes in Kenya and sea otters in France; open the map: http://${system.config.host}:${system.httpPort}/#token=${system.adminToken}\n` +
        `  sign in as:   ${people.map((p) => `${p.username} / ${p.password} (${p.role === 'agent' ? 'agent' : `customer user of ${p.customerId}`})`).join(', ')}\n`,
    );
    stopOnSignals(system, () => fleet.stop());
  });

program
  .command('onboard')
  .description(
    'Bulk-onboard devices from a CSV file (header: deviceId,customerId,name,iccid,imsi,msisdn,interval,offlineAfter,species) through a running server',
  )
  .argument('<file>', 'CSV file, one device a line')
  .option('--server <url>', 'lastseen server', `http://127.0.0.1:${process.env.LASTSEEN_HTTP_PORT ?? 8080}`)
  .option('--token <token>', 'admin API token (default: $LASTSEEN_ADMIN_TOKEN)', process.env.LASTSEEN_ADMIN_TOKEN)
  .option('--credentials <out.csv>', "write the new devices' tokens here (mode 600): deviceId,token")
  .action(async (file: string, o: { server: string; token?: string; credentials?: string }) => {
    if (!o.token) {
      process.stderr.write('lastseen: give an admin token with --token or LASTSEEN_ADMIN_TOKEN\n');
      process.exit(2);
    }
    const started = Date.now();
    try {
      const s = await onboardFile(
        file,
        { server: o.server, token: o.token, credentials: o.credentials, progress: process.stderr.isTTY === true },
        (l) => process.stderr.write(`${l}\n`),
      );
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `created ${s.created}, rejected ${s.rejected}${s.duplicates ? ` (${s.duplicates} already onboarded)` : ''} in ${secs} s` +
          (o.credentials && s.created ? `; credentials in ${o.credentials}` : '') +
          '\n',
      );
      // Non-zero only when nothing could be onboarded; a re-run where every line already exists is fine.
      const failed = s.created === 0 && s.rejected > s.duplicates;
      process.exit(failed ? 1 : 0);
    } catch (err) {
      process.stderr.write(`lastseen: ${(err as Error).message}\n`);
      process.exit(err instanceof OnboardFileError ? 2 : 1);
    }
  });

registerSimulateCommand(program);

await program.parseAsync(process.argv);

async function boot<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    // Bad configuration: one clear line naming the variable, nothing half-started (docs/contract.md §2).
    if (err instanceof ConfigError || (err instanceof Error && /^LASTSEEN_/.test(err.message))) {
      for (const line of err.message.split('\n')) process.stderr.write(`lastseen: ${line}\n`);
      process.exit(2);
    }
    // Something it needs is not there (PostgreSQL, Redis, a port taken): one line too, exit 1
    // (a supervisor retries); the stack is in the log's "start failed" entry.
    process.stderr.write(`lastseen: cannot start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exit(1);
  }
}

function announce(system: RunningSystem | RunningMonitor): void {
  const host = system.config.host;
  const secure = system.config.tls !== null;
  const broker = system.config.brokerUrl ? new URL(system.config.brokerUrl) : null;
  const lines = [
    `lastseen is running`,
    `  map and API:  http${secure ? 's' : ''}://${host}:${system.httpPort}/`,
    ...('mqttPort' in system
      ? [
          `  MQTT:         mqtt://${host}:${system.mqttPort}  (WebSocket: ws${secure ? 's' : ''}://${host}:${system.httpPort}/mqtt)`,
          ...(system.mqttsPort !== null ? [`  MQTT TLS:     mqtts://${host}:${system.mqttsPort}`] : []),
        ]
      : [
          `  broker:       ${broker?.protocol}//${broker?.host} (${system.broker.connected ? 'connected' : 'not connected yet, retrying'}; device logins: ${system.config.brokerAuth})`,
        ]),
    `  data dir:     ${system.config.dataDir}`,
  ];
  if (system.adminTokenGenerated) {
    lines.push(`  admin token:  ${system.adminToken}   (generated now, kept in ${system.config.dataDir}/admin-token; shown once)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function stopOnSignals(system: Pick<RunningSystem, 'log' | 'stop'>, before?: () => Promise<void>): void {
  const onSignal = (signal: string) => {
    system.log.info({ signal }, 'signal received');
    (before ? before() : Promise.resolve())
      .then(() => system.stop())
      .then(
        () => process.exit(0),
        (err) => {
          system.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
