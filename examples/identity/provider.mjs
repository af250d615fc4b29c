// The demo platform's identity federation for citizens: a real OpenID Provider (oidc-provider, OpenID
// certified) standing where FranceConnect stands in a real deployment. `agora run` starts it on 8003.
//
//   AGORA_CITIZEN_OIDC_CLIENT_SECRET=... node provider.mjs PORT PORTAL_URL
//     -> issuer http://127.0.0.1:PORT, prints "ready <issuer>" once listening
//
// One client, `agora-citizens` (the portal's "Who accessed my data" pages): authorization code flow, its
// secret from the environment (never in the repository nor on a command line), any redirect URI on the
// portal's origin. The people of citizens.json sign in with the one demo password shown on the login
// page; each carries the `national_id` claim (their NIR, the subject of the benefits register's
// personal data), released with the `openid` scope and put in the ID token as well as at userinfo.
// The login page is this file's own: oidc-provider's development pages accept any name with any password.
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const port = Number(process.argv[2]);
const portalUrl = process.argv[3];
const secret = process.env.AGORA_CITIZEN_OIDC_CLIENT_SECRET;
if (!Number.isInteger(port) || port < 1 || port > 65535 || !portalUrl || !secret) {
  process.stderr.write('usage: AGORA_CITIZEN_OIDC_CLIENT_SECRET=... node provider.mjs PORT PORTAL_URL\n');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const portal = new URL(portalUrl).origin;
const { password: PASSWORD, citizens: CITIZENS } = JSON.parse(
  readFileSync(new URL('./citizens.json', import.meta.url), 'utf8'),
);
const byLogin = new Map(CITIZENS.map((citizen) => [citizen.login, citizen]));
const MAX_FORM_BYTES = 4096;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

// oidc-provider's own in-memory store, named: used by default it warns at each start that sessions are
// lost on restart, which is what a demo wants (as are keys made afresh at each start).
class DemoStore extends MemoryAdapter {}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'agora-citizens',
      client_secret: secret,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [`${portal}/my-data/callback`],
      post_logout_redirect_uris: [`${portal}/my-data/`],
    },
  ],
  scopes: ['openid', 'profile'],
  claims: {
    openid: ['sub', 'national_id'],
    profile: ['name', 'given_name', 'family_name', 'birthdate'],
  },
  // The portal reads the subject claim from the ID token; a conforming provider would keep it for userinfo.
  conformIdTokenClaims: false,
  adapter: DemoStore,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'citizens-1', alg: 'RS256', use: 'sig' }] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const citizen = byLogin.get(id);
    if (!citizen) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          national_id: citizen.national_id,
          name: `${citizen.given_name} ${citizen.family_name}`,
          given_name: citizen.given_name,
          family_name: citizen.family_name,
          birthdate: citizen.birthdate,
        };
      },
    };
  },
});

// The portal's URL is configurable and its pages move: any path on its origin is a redirect it owns.
function onPortal(value) {
  try {
    return new URL(value).origin === portal;
  } catch {
    return false;
  }
}
provider.Client.prototype.redirectUriAllowed = onPortal;
provider.Client.prototype.postLogoutRedirectUriAllowed = onPortal;

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Demo identity federation</title>
<style>
body{font:1rem/1.5 system-ui,sans-serif;margin:0;color:#161616;background:#f6f6f6}
header{background:#000091;color:#fff;padding:1rem 1.5rem}header p{margin:0;font-weight:700}
main{max-width:36rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border:1px solid #ddd}
label{display:block;font-weight:700;margin-top:1rem}input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;border:2px solid #3a3a3a}
button{font:inherit;margin-top:1.5rem;padding:.6rem 1.2rem;background:#000091;color:#fff;border:0;cursor:pointer}
.error{border-left:5px solid #ce0500;padding:.5rem 1rem;color:#ce0500}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd}a{color:#000091}
</style></head>
<body><header><p>Demo identity federation</p></header>
<main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`);
}

function loginPage(res, uid, { status = 200, error = '', login = '' } = {}) {
  const people = CITIZENS.map(
    (c) => `<tr><td><code>${escapeHtml(c.login)}</code></td><td>${escapeHtml(`${c.given_name} ${c.family_name}`)}</td>`
      + `<td><code>${escapeHtml(c.national_id)}</code></td></tr>`,
  ).join('');
  page(res, status, 'Sign in', `
${error ? `<div class="error" role="alert" id="error"><p>${escapeHtml(error)}</p></div>` : ''}
<p>The developer portal asks who you are, to show who accessed your data. It will receive your name and
your national identification number (NIR).</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Login</label>
<input id="login" name="login" autocomplete="username" required value="${escapeHtml(login)}"${error ? ' aria-describedby="error"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel and go back</a></p>
<h2>Demo accounts</h2>
<p>Every demo person's password is <code>${escapeHtml(PASSWORD)}</code>.</p>
<table><thead><tr><th scope="col">Login</th><th scope="col">Name</th><th scope="col">NIR</th></tr></thead><tbody>${people}</tbody></table>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new Error('the form is too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function samePassword(given) {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(PASSWORD, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

// The portal is the platform's own client: what it asks for (openid, profile) is granted without a
// consent page, the login page having said what it receives.
async function grantConsent(req, res, details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('this sign-in page belongs to another sign-in');
  if (action === '/abort') {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the person cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  } else if (details.prompt.name === 'consent') {
    await grantConsent(req, res, details);
  } else if (action === '/login' && req.method === 'POST') {
    const form = await readForm(req);
    const login = (form.get('login') || '').trim().toLowerCase();
    if (!byLogin.has(login) || !samePassword(form.get('password') || '')) {
      loginPage(res, uid, { status: 400, error: 'The login or the password is not right.', login });
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  } else if (!action && req.method === 'GET') {
    loginPage(res, uid);
  } else {
    page(res, 405, 'Not allowed', '<p>This page takes no such request.</p>');
  }
}

const callback = provider.callback();
const server = createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(new URL(req.url, issuer).pathname);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1], match[2]).catch((err) => {
    if (res.headersSent) return;
    // An expired or foreign sign-in (no interaction cookie): start again from the portal.
    page(res, 400, 'This sign-in has expired', `<p>${escapeHtml(err.message)}. Go back to the portal and sign in again.</p>`);
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
