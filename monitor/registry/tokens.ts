import { createHash, randomBytes } from 'node:crypto';

/**
 * Device tokens and API keys: 192 random bits, base64url. They are stored only as SHA-256
 * hashes. A slow password hash (bcrypt, scrypt) protects low-entropy human passwords; with
 * 192 random bits a plain SHA-256 cannot be brute-forced, and it keeps MQTT logins cheap at
 * thousands of connects per second.
 */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
