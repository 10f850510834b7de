import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCompose, resolveEnv, ROOT } from './compose-file.ts';
import { CONFIG_VARIABLES, loadConfig } from '../../monitor/config.ts';

/**
 * docker-compose.mosquitto.yml cannot be run here (no Docker engine); what can be checked is:
 * the monitor's environment is valid configuration attached to the mosquitto service, Mosquitto's
 * config loads the dynamic-security file the init service writes, and nothing but the map and
 * the devices' MQTT port (and Grafana) is published on the host.
 */
const services = readCompose('docker-compose.mosquitto.yml');
const vars = { LASTSEEN_ADMIN_TOKEN: 'x'.repeat(32), LASTSEEN_MOSQUITTO_PASSWORD: 'p'.repeat(32) };
const resolve = (env: Record<string, string>) => resolveEnv(env, vars);

describe('docker-compose.mosquitto.yml (attached to Mosquitto)', () => {
  it('runs lastseen monitor with valid configuration, attached to the mosquitto service with dynsec', () => {
    const env = resolve(services.monitor.environment!);
    for (const key of Object.keys(env)) expect(CONFIG_VARIABLES, key).toContain(key);
    const config = loadConfig(env);
    expect(services.monitor.command).toEqual(['node', 'bin/lastseen.js', 'monitor']);
    expect(config.brokerAuth).toBe('dynsec');
    const url = new URL(config.brokerUrl!);
    expect(Object.keys(services)).toContain(url.hostname);
    expect(decodeURIComponent(url.password)).toBe(vars.LASTSEEN_MOSQUITTO_PASSWORD);
    expect(services.monitor.ports).toEqual([`${config.httpPort}:${config.httpPort}`]);
  });

  it("Mosquitto loads the dynamic-security file the init service creates, with the monitor's admin, and keeps the monitor's queue", () => {
    const conf = readFileSync(join(ROOT, 'deploy/mosquitto/mosquitto.conf'), 'utf8');
    const file = /^plugin_opt_config_file (\S+)$/m.exec(conf)![1];
    expect(conf).toMatch(/^plugin \S*mosquitto_dynamic_security\.so$/m);
    expect(conf).toMatch(/^allow_anonymous false$/m);
    expect(Number(/^max_queued_messages (\d+)$/m.exec(conf)![1])).toBeGreaterThan(1000);
    const init = [services['mosquitto-init'].command].flat().join(' ');
    const user = new URL(loadConfig(resolve(services.monitor.environment!)).brokerUrl!).username;
    expect(init).toContain(`dynsec init ${file} ${user}`);
  });

  it('publishes no database or metrics port on the host', () => {
    for (const name of ['influxdb', 'prometheus', 'mosquitto-init']) expect(services[name].ports, name).toBeUndefined();
  });
});
