/**
 * Which MQTT client id an identity may use. A client id names a session — its subscriptions and,
 * with clean session = 0, the QoS 1 messages queued while it was away — and a second CONNECT with
 * the same id takes the first connection over. So a client id must belong to the identity that
 * logs in; otherwise one customer could resume another's session (and read its queued alerts) or
 * knock a device off the air.
 *
 *   login (username)         client id                      clean   decision
 *   -----------------------  -----------------------------  ------  ----------------------------------------
 *   device `giraffe-7`       `giraffe-7`                    any     accepted
 *   device `giraffe-7`       `giraffe-7/{suffix}`           any     accepted (several sessions of one device)
 *   `customer:kwt`           `customer:kwt`                 any     accepted
 *   `customer:kwt`           `customer:kwt/{suffix}`        any     accepted
 *   any                      `` (empty)                     1       accepted: the broker assigns a random id
 *   any                      `` (empty)                     0       refused (MQTT 3.1.1 [MQTT-3.1.3-8])
 *   any                      anything else                  any     refused: CONNACK 2, identifier rejected
 *
 * `{suffix}` is 1–64 of `A–Z a–z 0–9 . _ : -`. The separator `/` cannot occur in a device or
 * customer id (their grammar is `[A-Za-z0-9._:-]`, web/schemas.ts), so the text before the first
 * `/` is exactly the owner: `giraffe-7/x` can never belong to a device called `giraffe-7/x`.
 */
const SUFFIX = /^[A-Za-z0-9._:-]{1,64}$/;

/** Why `clientId` is refused for the identity logged in as `owner` (its username), or null if allowed. */
export function clientIdProblem(owner: string, clientId: string, clean: boolean): string | null {
  if (clientId === owner) return null;
  if (clientId === '') return clean ? null : 'an empty client id needs clean session = 1';
  if (clientId.startsWith(owner) && clientId.charCodeAt(owner.length) === 0x2f /* / */) {
    return SUFFIX.test(clientId.slice(owner.length + 1)) ? null : 'the suffix after "/" must be 1–64 of A–Z a–z 0–9 . _ : -';
  }
  return `the client id must be "${owner}" or "${owner}/{suffix}"`;
}
