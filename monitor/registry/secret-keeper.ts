/**
 * Something that must hold the plaintext of a credential the registry issues, because it has
 * to hand it to a system that cannot take a hash (Mosquitto's dynamic-security plugin takes
 * plaintext passwords only). The registry itself keeps only SHA-256 hashes; a keeper is set
 * only where such a system is attached (../attach/dynsec/secret-vault.ts).
 *
 * Both calls run inside the registry's transaction: a keeper that throws undoes the change,
 * so a device is never created or rotated with a token the attached broker can never learn.
 */
export interface SecretKeeper {
  /** A device was given `token`; null: its token was revoked and it has no usable one. */
  deviceToken(deviceId: string, token: string | null): void;
  /** A customer API key was created (its revocation is announced as a credential change). */
  customerKey(keyId: string, customerId: string, token: string): void;
}
