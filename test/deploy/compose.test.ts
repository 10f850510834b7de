import { Command } from 'commander';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../monitor/config.ts';
import { HEARTBEAT_MEASUREMENT } from '../../monitor/store/influx/influx-schema.ts';
import { registerSimulateCommand } from '../../simulators/cli.ts';

/**
 * There is no Docker engine on the build machines, so docker-compose.yml cannot be run here.
 * What can be checked is checked: the file parses, every service has an image or a build,
 * lastseen's environment is valid configuration, ports agree with it, the simulator's command
 * line is one the CLI accepts, and the monitoring files point at things that exist.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; ports?: string[]; volumes?: string[] }
  >;
};
const services = compose.services;

/** Resolve `${VAR:?message}` / `${VAR:-default}` as docker compose would, with VAR set. */
function resolveEnv(env: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    out[k] = String(v).replace(/\$\{(\w+)(?::[?-][^}]*)?\}/g, (_m, name: string) => vars[name] ?? '');
  }
  return out;
}

describe('docker-compose.yml (split deployment)', () => {
  it('gives every service an image or a Dockerfile build', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'influxdb', 'lastseen', 'prometheus', 'simulator']);
    for (const [name, s] of Object.entries(services)) {
      expect(Boolean(s.image) !== Boolean(s.build), `${name}: exactly one of image/build`).toBe(true);
      if (s.build) expect(existsSync(join(ROOT, s.build, 'Dockerfile'))).toBe(true);
    }
  });

  it('configures lastseen only with variables it knows, and values its configuration accepts', () => {
    const env = resolveEnv(services.lastseen.environment!, { LASTSEEN_ADMIN_TOKEN: 'x'.repeat(32) });
    for (const key of Object.keys(env)) expect(CONFIG_VARIABLES, key).toContain(key);
    const config = loadConfig(env);
    expect(config.store).toBe('influxdb://influxdb:8086/lastseen');
    expect(services.lastseen.command).toEqual(['node', 'bin/lastseen.js', 'start']);
    // Published ports are the ones the configuration binds.
    expect(services.lastseen.ports).toEqual([`${config.mqttPort}:${config.mqttPort}`, `${config.httpPort}:${config.httpPort}`]);
    // The store URL names the influxdb service and the database it creates.
    const store = new URL(config.store);
    expect(Object.keys(services)).toContain(store.hostname);
    expect(services.influxdb.environment!.INFLUXDB_DB).toBe(store.pathname.slice(1));
    expect(services.influxdb.ports).toContain(`${store.port}:${store.port}`);
  });

  it('runs the simulator with a command line the CLI accepts, pointed at the lastseen service', () => {
    const program = new Command();
    registerSimulateCommand(program);
    const simulate = program.commands.find((c) => c.name() === 'simulate')!;
    const known = new Set(simulate.options.map((o) => o.long));
    const cmd = services.simulator.command!;
    expect(cmd.slice(0, 3)).toEqual(['node', 'bin/lastseen.js', 'simulate']);
    for (const arg of cmd.slice(3).filter((a) => a.startsWith('--'))) expect(known, arg).toContain(arg);
    const lastseenEnv = loadConfig(resolveEnv(services.lastseen.environment!, { LASTSEEN_ADMIN_TOKEN: 'x'.repeat(32) }));
    const at = (flag: string) => cmd[cmd.indexOf(flag) + 1];
    expect(new URL(at('--server'))).toMatchObject({ hostname: 'lastseen', port: String(lastseenEnv.httpPort) });
    expect(new URL(at('--mqtt'))).toMatchObject({ hostname: 'lastseen', port: String(lastseenEnv.mqttPort) });
    expect(Object.keys(services.simulator.environment!)).toEqual(['LASTSEEN_ADMIN_TOKEN']);
  });

  it("scrapes lastseen's /metrics and shows only metrics and measurements that lastseen produces", () => {
    const prom = parse(readFileSync(join(ROOT, 'deploy/prometheus.yml'), 'utf8'));
    const httpPort = loadConfig(resolveEnv(services.lastseen.environment!, { LASTSEEN_ADMIN_TOKEN: 'x'.repeat(32) })).httpPort;
    expect(prom.scrape_configs[0].static_configs[0].targets).toEqual([`lastseen:${httpPort}`]);

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
