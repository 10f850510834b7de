import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newToken } from './registry/tokens.ts';

/**
 * The admin token: LASTSEEN_ADMIN_TOKEN when set, else the one generated at first start and
 * kept (mode 600) in the data dir. `generated` is true only the first time, when it is printed.
 * A generated token is written only by `persist()`, which start-up calls once it is listening:
 * a start that fails leaves no token behind that nobody was shown.
 */
export function resolveAdminToken(dataDir: string, configured: string | null): { token: string; generated: boolean; persist(): void } {
  if (configured) return { token: configured, generated: false, persist: () => undefined };
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false, persist: () => undefined };
  const token = newToken();
  return { token, generated: true, persist: () => writeFileSync(file, `${token}\n`, { mode: 0o600 }) };
}
