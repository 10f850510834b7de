// A real OpenID provider (npm oidc-provider) as its own process, for the single sign-on tests.
// Usage: node oidc-provider.mjs <port> <redirect_uri> ; prints "ready <issuer>" when listening.
// Accounts (sub → claims) come as JSON in the OIDC_ACCOUNTS environment variable. The provider's
// development login form (devInteractions) takes any password for an account that exists.
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'lastseen',
      client_secret: 'lastseen-test-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: { openid: ['sub'], email: ['email'], profile: ['name', 'preferred_username', 'lastseen_role'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, sub) {
    if (!accounts[sub]) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) };
  },
  // Grant what the client asks for, so the test needs no consent click beyond the dev form's.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
