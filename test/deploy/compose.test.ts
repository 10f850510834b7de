import { Command } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readCompose, resolveEnv, ROOT } from './compose-file.ts';
import { CONFIG_VARIABLES, loadConfig } from '../../monitor/config.ts';
import { HEARTBEAT_MEASUREMENT } from '../../monitor/store/influx/influx-schema.ts';
import { registerSimulateCommand } from '../../simulators/cli.ts';

/**
 * There is no Docker engine on the build machines, so docker-compose.yml cannot be run here.
 * What can be checked is checked: the file parses, every service has an image or a build,
 * lastseen's environments are valid configuration, every command is one the CLI has, ports agree
 * with the configuration, no database or metrics port is published, the image runs as a non-root
 * user with production dependencies only, and the monitoring files point at things that exist.
 */
const services = readCompose('docker-compose.yml');
const VARS = { LASTSEEN_ADMIN_TOKEN: 'x'.repeat(32), LASTSEEN_MONITOR_TOKEN: 'm'.repeat(32), GRAFANA_ADMIN_PASSWORD: 'g'.repeat(16) };
const configOf = (name: string) => loadConfig(resolveEnv(services[name].environment!, VARS));

/** The subcommands of bin/cli.ts, read from its source (importing it would run the CLI). */
const cliSource = readFileSync(join(ROOT, 'bin/cli.ts'), 'utf8');
const SUBCOMMANDS = new Set([...cliSource.matchAll(/\.command\('([a-z]+)'\)/g)].map((m) => m[1]).concat(['simulate']));

describe('docker-compose.yml (split deployment with lastseen broker)', () => {
  it('runs broker, monitor, InfluxDB, Prometheus, Grafana and the simulator, each from an image or the Dockerfile', () => {
    expect(Object.keys(services).sort()).toEqual(['broker', 'grafana', 'influxdb', 'monitor', 'prometheus', 'simulator']);
    for (const [name, s] of Object.entries(services)) {
      expect(Boolean(s.image) !== Boolean(s.build), `${name}: exactly one of image/build`).toBe(true);
      if (s.build) expect(existsSync(join(ROOT, s.build, 'Dockerfile'))).toBe(true);
    }
  });

  it("runs every lastseen service with a command the CLI has, and the docker-compose.mosquitto.yml variant's too", () => {
    expect(SUBCOMMANDS).toContain('broker');
    for (const file of ['docker-compose.yml', 'docker-compose.mosquitto.yml']) {
      for (const [name, s] of Object.entries(readCompose(file))) {
        if (!s.build) continue;
        expect(s.command!.slice(0, 2), `${file} ${name}`).toEqual(['node', 'bin/lastseen.js']);
        expect(SUBCOMMANDS, `${file} ${name}`).toContain(s.command![2]);
      }
    }
    expect(services.broker.command).toEqual(['node', 'bin/lastseen.js', 'broker']);
    expect(services.monitor.command).toEqual(['node', 'bin/lastseen.js', 'monitor']);
  });

  it('configures broker and monitor only with variables lastseen knows, and values its configuration accepts', () => {
    for (const name of ['broker', 'monitor']) {
      for (const key of Object.keys(services[name].environment!)) expect(CONFIG_VARIABLES, `${name}: ${key}`).toContain(key);
    }
    const broker = configOf('broker');
    const monitor = configOf('monitor');
    expect(broker.monitorToken).toBe(VARS.LASTSEEN_MONITOR_TOKEN);
    // The monitor logs in at the broker service as ~monitor with the broker's token and client id.
    const url = new URL(monitor.brokerUrl!);
    expect(url.hostname).toBe('broker');
    expect(Number(url.port)).toBe(broker.mqttPort);
    expect(decodeURIComponent(url.username)).toBe('~monitor');
    expect(decodeURIComponent(url.password)).toBe(broker.monitorToken);
    expect(monitor.brokerClientId).toBe(broker.brokerClientId);
    // The broker reads the monitor's registry: the same volume at the same data dir.
    expect(broker.dataDir).toBe(monitor.dataDir);
    const volumeOf = (name: string) => services[name].volumes!.find((v) => v.endsWith(`:${broker.dataDir}`))!.split(':')[0];
    expect(volumeOf('broker')).toBe(volumeOf('monitor'));
    // The store URL names the influxdb service and the database it creates.
    const store = new URL(monitor.store);
    expect(Object.keys(services)).toContain(store.hostname);
    expect(services.influxdb.environment!.INFLUXDB_DB).toBe(store.pathname.slice(1));
  });

  it('publishes only the devices’ MQTT port, the map/API and (on loopback) Grafana; no database or metrics port', () => {
    const broker = configOf('broker');
    const monitor = configOf('monitor');
    expect(services.broker.ports).toEqual([`${broker.mqttPort}:${broker.mqttPort}`]);
    expect(services.monitor.ports).toEqual([`${monitor.httpPort}:${monitor.httpPort}`]);
    for (const name of ['influxdb', 'prometheus', 'simulator']) expect(services[name].ports, name).toBeUndefined();
    for (const p of services.grafana.ports!) expect(p.startsWith('127.0.0.1:'), p).toBe(true);
    expect(services.grafana.environment!.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(services.grafana.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
  });

  it("health checks ask each lastseen service's own /healthz port", () => {
    for (const name of ['broker', 'monitor']) {
      const test = services[name].healthcheck!.test.join(' ');
      expect(test, name).toContain(`http://127.0.0.1:${configOf(name).httpPort}/healthz`);
    }
  });

  it('builds an image that runs as a non-root user with production dependencies only', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const final = stages[stages.length - 1];
    const user = /^USER (\S+)$/m.exec(final)?.[1];
    expect(user, 'USER in the final stage').toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(dockerfile).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(final).toMatch(/^HEALTHCHECK .*\/healthz/ms);
  });

  it('runs the simulator with a command line the CLI accepts, devices at the broker, API at the monitor', () => {
    const program = new Command();
    registerSimulateCommand(program);
    const simulate = program.commands.find((c) => c.name() === 'simulate')!;
    const known = new Set(simulate.options.map((o) => o.long));
    const cmd = [services.simulator.command!].flat();
    expect(cmd.slice(0, 3)).toEqual(['node', 'bin/lastseen.js', 'simulate']);
    for (const arg of cmd.slice(3).filter((a) => a.startsWith('--'))) expect(known, arg).toContain(arg);
    const at = (flag: string) => cmd[cmd.indexOf(flag) + 1];
    expect(new URL(at('--server'))).toMatchObject({ hostname: 'monitor', port: String(configOf('monitor').httpPort) });
    expect(new URL(at('--mqtt'))).toMatchObject({ hostname: 'broker', port: String(configOf('broker').mqttPort) });
    expect(Object.keys(services.simulator.environment!)).toEqual(['LASTSEEN_ADMIN_TOKEN']);
  });

  it("scrapes the monitor's and the broker's /metrics and shows only metrics and measurements that lastseen produces", () => {
    const prom = parse(readFileSync(join(ROOT, 'deploy/prometheus.yml'), 'utf8'));
    const targets = prom.scrape_configs.flatMap((c: { static_configs: { targets: string[] }[] }) => c.static_configs[0].targets);
    expect(targets).toEqual([`monitor:${configOf('monitor').httpPort}`, `broker:${configOf('broker').httpPort}`]);

    const sources = readdirSync(join(ROOT, 'monitor'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(ROOT, 'monitor', f), 'utf8'))
      .join('\n');
    const produced = new Set([...sources.matchAll(/'(lastseen_[a-z_]+)'/g)].map((m) => m[1]));
    const datasources = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/lastseen.yml'), 'utf8')).datasources as {
      uid: string;
      url: string;
    }[];
    const uids = new Set(datasources.map((d) => d.uid));
    for (const d of datasources) expect(Object.keys(services)).toContain(new URL(d.url).hostname);

    const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/dashboards/lastseen.json'), 'utf8'));
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    for (const panel of dashboard.panels) {
      expect(uids).toContain(panel.datasource.uid);
      for (const t of panel.targets) {
        if (t.expr)
          for (const m of t.expr.match(/lastseen_[a-z_]+/g))
            expect(produced, `${panel.title}: ${m}`).toContain(m.replace(/_(bucket|sum|count)$/, ''));
        if (t.query) expect(t.query).toContain(`FROM "${HEARTBEAT_MEASUREMENT}"`);
      }
    }
    const titles = dashboard.panels.map((p: { title: string }) => p.title).join(' | ');
    for (const want of [/status/, /accepted/, /rejected/, /[Bb]attery/, /[Ss]ignal/, /spool/]) expect(titles).toMatch(want);
  });
});
