// A real OpenID Provider (oidc-provider, OpenID-certified) for the jwt plugin's tests.
//
//   node provider.mjs PORT      -> issuer http://127.0.0.1:PORT, prints "ready <issuer>" when listening
//
// Access tokens are JWTs (resource indicators with accessTokenFormat "jwt"), obtained with client credentials.
// Keys are made afresh at each start (RS256 and ES256), so no secret lives in the repository.
//   agora-rs     RS256 tokens, 5 minutes
//   agora-es     ES256 tokens, 5 minutes
//   agora-short  RS256 tokens that expire after 1 second (the "expired" case comes from the provider itself)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const SECRET = 'agora-test-secret'; // a test client's secret on a loopback-only provider
const SCOPES = 'filings:read filings:write';
// The resource servers this provider issues tokens for; the tests' gateway accepts only the first.
const RESOURCES = new Set(['https://api.agora.test/companies', 'https://other.agora.test/']);

function privateJwk(type, options, kid, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const client = (id, alg) => ({
  client_id: id,
  client_secret: SECRET,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  scope: SCOPES,
  // Read back by getResourceServerInfo to choose the signing algorithm of this client's tokens.
  'urn:agora:alg': alg,
});

const provider = new Provider(issuer, {
  clients: [client('agora-rs', 'RS256'), client('agora-es', 'ES256'), client('agora-short', 'RS256')],
  extraClientMetadata: { properties: ['urn:agora:alg'] },
  scopes: ['openid', ...SCOPES.split(' ')],
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: {
    keys: [
      privateJwk('rsa', { modulusLength: 2048 }, 'rs-1', 'RS256'),
      privateJwk('ec', { namedCurve: 'P-256' }, 'es-1', 'ES256'),
    ],
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://api.agora.test/companies',
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resourceIndicator, client) {
        if (!RESOURCES.has(resourceIndicator)) throw new Provider.errors.InvalidTarget();
        return {
          scope: SCOPES,
          audience: resourceIndicator,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: client['urn:agora:alg'] } },
        };
      },
    },
  },
  ttl: {
    ClientCredentials: (ctx, token, client) => (client.clientId === 'agora-short' ? 1 : 300),
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
