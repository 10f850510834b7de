import argon2 from 'argon2';

/**
 * Password hashing for people (device tokens and API keys are random and use SHA-256:
 * ../registry/tokens.ts). argon2id with OWASP's first recommended setting — 19 MiB of memory,
 * 2 passes, 1 lane — about 25 ms a hash on one core of the 2-core box, so a login costs one such
 * hash and a guesser one per try (the login guard limits tries: ./login-guard.ts).
 *
 * `verifyOrDummy` always hashes once: for an unknown user it checks against a hash of a random
 * password made at start-up with the same parameters, so the answer and its time are the same
 * for an unknown username and a wrong password.
 */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

let dummy: Promise<string> | null = null;

/** Whether `password` matches `hash`; without a hash, the same work against a dummy, and false. */
export async function verifyOrDummy(hash: string | null, password: string): Promise<boolean> {
  dummy ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  const against = hash ?? (await dummy);
  try {
    const ok = await argon2.verify(against, password);
    return hash !== null && ok;
  } catch {
    // A corrupt stored hash is a refusal, not a crash.
    return false;
  }
}
