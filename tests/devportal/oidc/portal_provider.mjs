// A real OpenID Provider (oidc-provider, from tests/oidc_provider/node_modules) for the portal's
// sign-in: authorization code flow with PKCE, its built-in development login and consent pages (any
// login name signs in), and accounts whose email is `<login>@oidc.example`, verified. One login stands
// for a provider at fault: mallory's ID token names mallory, but the userinfo endpoint (where the email
// comes from) answers for alice, which a relying party must refuse.
//
//   node portal_provider.mjs PORT REDIRECT_URI  -> issuer http://127.0.0.1:PORT, prints "ready <issuer>"
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const { default: Provider } = await import(
  new URL('../../oidc_provider/node_modules/oidc-provider/lib/index.js', import.meta.url)
);

const port = Number(process.argv[2]);
const redirectUri = process.argv[3];
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const USERINFO_AS = { mallory: 'alice' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'agora-portal',
      client_secret: 'agora-portal-test-secret', // a test client on a loopback-only provider
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'email', 'profile'],
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'rs-1', alg: 'RS256', use: 'sig' }] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims(use) {
        const who = use === 'userinfo' && USERINFO_AS[id] ? USERINFO_AS[id] : id;
        return { sub: who, email: `${who}@oidc.example`, email_verified: true, name: `OIDC ${who}` };
      },
    };
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
