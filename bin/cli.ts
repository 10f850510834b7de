import { Command } from 'commander';
import { ConfigError } from '../monitor/config.ts';
import { runDemo } from './demo.ts';
import { startSystem, type RunningSystem } from './start.ts';

const program = new Command();
program
  .name('lastseen')
  .description('Connectivity monitor for IoT devices and animal trackers: MQTT heartbeats in, exact offline detection, alerts and a live map out.')
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
  .command('demo')
  .description('Run the all-in-one with a simulated fleet, so alerts, diagnosis and the map have something to show')
  .action(async () => {
    const system = await boot(() => startSystem());
    announce(system);
    const stopFleet = await runDemo(system);
    stopOnSignals(system, stopFleet);
  });

await program.parseAsync(process.argv);

async function boot(start: () => Promise<RunningSystem>): Promise<RunningSystem> {
  try {
    return await start();
  } catch (err) {
    // Bad configuration: one clear line naming the variable, nothing half-started (CONTRACT §2).
    if (err instanceof ConfigError || (err instanceof Error && /^LASTSEEN_/.test(err.message))) {
      for (const line of err.message.split('\n')) process.stderr.write(`lastseen: ${line}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function announce(system: RunningSystem): void {
  const host = system.config.host;
  const lines = [
    `lastseen is running`,
    `  map and API:  http://${host}:${system.httpPort}/`,
    `  MQTT:         mqtt://${host}:${system.mqttPort}  (WebSocket: ws://${host}:${system.httpPort}/mqtt)`,
    `  data dir:     ${system.config.dataDir}`,
  ];
  if (system.adminTokenGenerated) {
    lines.push(`  admin token:  ${system.adminToken}   (generated now, kept in ${system.config.dataDir}/admin-token; shown once)`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

function stopOnSignals(system: RunningSystem, before?: () => Promise<void>): void {
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
