import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Make sure a Debian package's binary is present, the way testcontainers makes sure an image
 * is: install it when missing and we may (root), otherwise fail with one line saying what to
 * install. Never a silent skip.
 */
export function ensureDebianBinary(binary: string, pkg: string): string {
  const found = which(binary);
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    throw new Error(`${binary} is missing: install the Debian package "${pkg}" (apt-get install ${pkg})`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let res = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { env, encoding: 'utf8' });
  if (res.status !== 0) {
    // A fresh machine may have no package lists yet.
    spawnSync('apt-get', ['update', '-qq'], { env, encoding: 'utf8' });
    res = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { env, encoding: 'utf8' });
  }
  const after = which(binary);
  if (!after) {
    throw new Error(
      `${binary} is missing and "apt-get install ${pkg}" failed: ${(res.stderr || res.stdout || '').trim().split('\n').pop()}`,
    );
  }
  return after;
}

function which(binary: string): string | null {
  if (binary.startsWith('/')) return existsSync(binary) ? binary : null;
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin']) {
    if (existsSync(`${dir}/${binary}`)) return `${dir}/${binary}`;
  }
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
