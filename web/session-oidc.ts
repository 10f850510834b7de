import type * as Oidc from 'openid-client';
import type { OidcConfig } from '../monitor/config.ts';
import type { Role } from '../monitor/types.ts';

/** How long a browser may take at the provider between leaving and coming back (ms). */
const PENDING_MS = 10 * 60_000;
/** Sign-ins under way at once; more are refused rather than held (each is ~200 B). */
const PENDING_MAX = 10_000;

/**
 * Which lastseen role a provider's claim value gives (pure). Single sign-on is for operators:
 * a customer user signs in with a password, bound to its customer by an admin.
 *
 *   claim value                         role
 *   ----------------------------------  ---------------------------------------
 *   "admin", or a list containing it    admin
 *   "agent", or a list containing it    agent   (when both: admin)
 *   anything else, or missing           none: the sign-in is refused with a sentence
 */
export function roleFromClaim(value: unknown): Extract<Role, 'admin' | 'agent'> | null {
  const values = Array.isArray(value) ? value : [value];
  if (values.includes('admin')) return 'admin';
  if (values.includes('agent')) return 'agent';
  return null;
}

export interface OidcIdentity {
  externalId: string;
  username: string;
  role: 'admin' | 'agent';
  name: string | null;
  email: string | null;
}

export class OidcError extends Error {}

interface Pending {
  verifier: string;
  nonce: string;
  redirectUri: string;
  at: number;
}

/**
 * Single sign-on with OpenID Connect: the authorization code flow with PKCE (S256), a `state`
 * bound to the browser by a cookie, and a `nonce` bound to the ID token (openid-client does the
 * protocol checks: issuer, audience, signature, expiry, state, nonce, PKCE).
 *
 * The provider's metadata is discovered at the first sign-in, not at start-up, so a provider
 * that is down delays nobody's start and is retried at the next sign-in. Plain-http providers
 * are accepted only on a loopback address (a test provider, a provider beside lastseen).
 */
export class OidcSignOn {
  private discovered: Promise<Oidc.Configuration> | null = null;
  /** Loaded at the first sign-in: a server without single sign-on never pays for the library. */
  private lib: Promise<typeof Oidc> | null = null;
  private pending = new Map<string, Pending>();

  constructor(
    private cfg: OidcConfig,
    private now: () => number,
  ) {}

  private load(): Promise<typeof Oidc> {
    return (this.lib ??= import('openid-client'));
  }

  private async configuration(): Promise<Oidc.Configuration> {
    const oidc = await this.load();
    const url = new URL(this.cfg.issuer);
    const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
    this.discovered ??= oidc
      .discovery(
        url,
        this.cfg.clientId,
        this.cfg.clientSecret,
        undefined,
        url.protocol === 'http:' && loopback ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.discovered = null;
        throw new OidcError(`the sign-on provider ${this.cfg.issuer} cannot be reached (${(err as Error).message})`);
      });
    return this.discovered;
  }

  /** Where to send the browser to sign in, and the state to bind to it (a cookie). */
  async begin(defaultRedirectUri: string): Promise<{ url: string; state: string }> {
    const config = await this.configuration();
    const oidc = await this.load();
    const now = this.now();
    for (const [k, p] of this.pending) if (now - p.at > PENDING_MS) this.pending.delete(k);
    if (this.pending.size >= PENDING_MAX) throw new OidcError('too many sign-ins are under way; try again in a minute');
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const redirectUri = this.cfg.redirectUrl ?? defaultRedirectUri;
    this.pending.set(state, { verifier, nonce, redirectUri, at: now });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * The person the provider vouches for, from the callback URL. `cookieState` is the state this
   * browser was given by `begin`: a callback without it (another browser, a forged link) fails.
   */
  async finish(callbackUrl: URL, cookieState: string | undefined): Promise<OidcIdentity> {
    const state = callbackUrl.searchParams.get('state') ?? '';
    const p = this.pending.get(state);
    if (!p || !cookieState || cookieState !== state)
      throw new OidcError('this sign-in was not started in this browser, or it was already used; start again');
    this.pending.delete(state);
    if (this.now() - p.at > PENDING_MS) throw new OidcError('this sign-in took longer than 10 minutes; start again');
    const config = await this.configuration();
    const oidc = await this.load();
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: p.verifier,
        expectedState: state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new OidcError(`the sign-on provider refused the sign-in (${(err as Error).message})`);
    }
    const idClaims = tokens.claims()!;
    // Scope claims (profile, e-mail, the role) usually come from userinfo, not the ID token.
    const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub).catch(() => ({}) as Record<string, unknown>);
    const claims: Record<string, unknown> = { ...info, ...idClaims };
    const role = roleFromClaim(claims[this.cfg.roleClaim] ?? (info as Record<string, unknown>)[this.cfg.roleClaim]);
    if (!role)
      throw new OidcError(`your sign-on account has no lastseen role (claim "${this.cfg.roleClaim}" must be admin or agent); ask an admin`);
    const username = [claims.preferred_username, claims.email, idClaims.sub].find(
      (v): v is string => typeof v === 'string' && /^[A-Za-z0-9._@-]{1,64}$/.test(v),
    );
    if (!username) throw new OidcError('the sign-on provider gave no usable username (preferred_username, email or sub)');
    return {
      externalId: `${idClaims.iss} ${idClaims.sub}`,
      username,
      role,
      name: typeof claims.name === 'string' ? claims.name.slice(0, 200) : null,
      email: typeof claims.email === 'string' ? claims.email.slice(0, 254) : null,
    };
  }
}
