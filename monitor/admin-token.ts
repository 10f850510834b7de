import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newToken } from './registry/tokens.ts';

/**
 * The admin token: LASTSEEN_ADMIN_TOKEN when set, else the one generated at first start and
 * kept (mode 600) in the data dir. `generated` is true only the first time, when it is printed.
 */
export function resolveAdminToken(dataDir: string, configured: string | null): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false };
  const token = newToken();
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return { token, generated: true };
}
