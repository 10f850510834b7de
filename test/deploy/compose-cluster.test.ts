import { describe, expect, it } from 'vitest';
import { readCompose, resolveEnv } from './compose-file.ts';
import { CONFIG_VARIABLES, loadConfig } from '../../monitor/config.ts';

/**
 * docker-compose.cluster.yml cannot be run here (no Docker engine); what can be checked is: every
 * worker's environment is valid configuration naming the services of the file, with the
 * passwords those services are given; the workers differ where a cluster needs them to (client
 * id, host port, data volume) and exactly one keeps Mosquitto's dynamic security; no database is
 * published on the host.
 */
const services = readCompose('docker-compose.cluster.yml', true);
const vars: Record<string, string> = {
  LASTSEEN_ADMIN_TOKEN: 'a'.repeat(32),
  LASTSEEN_MOSQUITTO_PASSWORD: 'm'.repeat(32),
  LASTSEEN_REDIS_PASSWORD: 'r'.repeat(32),
  LASTSEEN_POSTGRES_PASSWORD: 'p'.repeat(32),
};
const resolve = (env: Record<string, string>) => resolveEnv(env, vars);
const monitors = Object.keys(services).filter((n) => n.startsWith('monitor-'));

describe('docker-compose.cluster.yml (three workers on Redis and PostgreSQL)', () => {
  it('runs three lastseen monitor workers with valid configuration on the Redis, PostgreSQL, InfluxDB and Mosquitto of the file', () => {
    expect(monitors).toHaveLength(3);
    for (const name of monitors) {
      const s = services[name];
      expect(s.build, name).toBe('.');
      expect(s.command, name).toEqual(['node', 'bin/lastseen.js', 'monitor']);
      const env = resolve(s.environment!);
      for (const key of Object.keys(env)) expect(CONFIG_VARIABLES, `${name} ${key}`).toContain(key);
      const config = loadConfig(env);
      const broker = new URL(config.brokerUrl!);
      expect(Object.keys(services), name).toContain(broker.hostname);
      expect(decodeURIComponent(broker.password)).toBe(vars.LASTSEEN_MOSQUITTO_PASSWORD);
      const state = new URL(config.state!);
      expect(state.hostname).toBe('redis');
      expect(decodeURIComponent(state.password)).toBe(vars.LASTSEEN_REDIS_PASSWORD);
      const registry = new URL(config.registryUrl!);
      expect(registry.hostname).toBe('postgres');
      expect(registry.username).toBe(services.postgres.environment!.POSTGRES_USER);
      expect(registry.pathname).toBe(`/${services.postgres.environment!.POSTGRES_DB}`);
      expect(decodeURIComponent(registry.password)).toBe(resolve(services.postgres.environment!).POSTGRES_PASSWORD);
      expect(new URL(config.store).hostname).toBe('influxdb');
      expect(s.healthcheck?.test.join(' '), name).toContain(`127.0.0.1:${config.httpPort}/healthz`);
    }
    // Redis is started with the password the workers' URLs carry.
    expect([services.redis.command].flat().join(' ')).toContain('--requirepass "$$LASTSEEN_REDIS_PASSWORD"');
    expect(services.redis.environment!.LASTSEEN_REDIS_PASSWORD).toMatch(/^\$\{LASTSEEN_REDIS_PASSWORD:\?/);
    expect([services.redis.command].flat().join(' ')).toContain('--appendonly yes');
  });

  it('gives each worker its own client id, host port and data volume; one of them keeps dynamic security', () => {
    const configs = monitors.map((n) => loadConfig(resolve(services[n].environment!)));
    expect(new Set(configs.map((c) => c.brokerClientId)).size).toBe(3);
    expect(new Set(monitors.flatMap((n) => services[n].ports!.map((p) => p.split(':')[0]))).size).toBe(3);
    const volumes = monitors.map((n) => services[n].volumes!.find((v) => v.endsWith(':/data')));
    expect(new Set(volumes).size).toBe(3);
    expect(configs.map((c) => c.brokerAuth).sort()).toEqual(['dynsec', 'none', 'none']);
  });

  it('publishes no database port on the host, and protects Redis and PostgreSQL with a password', () => {
    for (const name of ['redis', 'postgres', 'influxdb', 'mosquitto-init']) expect(services[name].ports, name).toBeUndefined();
    expect(services.postgres.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{LASTSEEN_POSTGRES_PASSWORD:\?/);
  });
});
