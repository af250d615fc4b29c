// A real OpenID Provider (oidc-provider, from tests/oidc_provider/node_modules) standing for the identity
// federation citizens sign in with (FranceConnect in France): authorization code flow with PKCE, its
// built-in development login and consent pages, and four people. alice and bob carry a `national_id`
// claim (scope `national_id`, given by the userinfo endpoint, as federations do); carol has none;
// mallory stands for a provider at fault: its ID token names mallory, its userinfo endpoint answers for
// alice (`userinfo_as`), which a relying party must refuse.
// CITIZEN_PEOPLE (JSON, {"login": {"national_id": "...", "name": "...", "userinfo_as": "login"}})
// replaces them, so a test can sign in the people its upstream knows.
//
//   node citizen_provider.mjs PORT REDIRECT_URI [REDIRECT_URI...]
//     -> issuer http://127.0.0.1:PORT, client `agora-citizens` / `agora-citizens-test-secret`,
//        prints "ready <issuer>"
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const { default: Provider } = await import(
  new URL('../../oidc_provider/node_modules/oidc-provider/lib/index.js', import.meta.url)
);

const port = Number(process.argv[2]);
const redirectUris = process.argv.slice(3);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

// The same identifiers as tests/registry/access_rows.py (ALICE, BOB).
const PEOPLE = process.env.CITIZEN_PEOPLE ? JSON.parse(process.env.CITIZEN_PEOPLE) : {
  alice: { national_id: '2 84 12 75 108 042 36', name: 'Alice Martin' },
  bob: { national_id: '1 79 03 13 055 117 21', name: 'Bob Durand' },
  carol: { name: 'Carol Petit' },
  mallory: { name: 'Mallory', userinfo_as: 'alice' },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'agora-citizens',
      client_secret: 'agora-citizens-test-secret', // a test client on a loopback-only provider
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: redirectUris,
    },
  ],
  claims: { openid: ['sub'], national_id: ['national_id'], profile: ['name'] },
  scopes: ['openid', 'national_id', 'profile'],
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'citizens-1', alg: 'RS256', use: 'sig' }] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const person = PEOPLE[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims(use) {
        if (use === 'userinfo' && person.userinfo_as) {
          return { sub: person.userinfo_as, ...PEOPLE[person.userinfo_as] };
        }
        return { sub: id, ...person };
      },
    };
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
