import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The repository root, where the compose files are. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The parts of a compose service the deploy tests read. */
export type Service = {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
};

/** A compose file's services; `merge` resolves YAML merge keys (`<<: *anchor`), as docker compose does. */
export function readCompose(file: string, merge = false): Record<string, Service> {
  return (parse(readFileSync(join(ROOT, file), 'utf8'), { merge }) as { services: Record<string, Service> }).services;
}

/** Resolve `${VAR:?message}` / `${VAR:-default}` as docker compose would, with `vars` set. */
export function resolveEnv(env: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    out[k] = String(v).replace(/\$\{(\w+)(?::[?-][^}]*)?\}/g, (_m, name: string) => vars[name] ?? '');
  return out;
}
