// A real third-party OpenID provider (npm `oidc-provider` by panva) playing the
// upstream "home" IdP in Portico's federation tests. Nothing here is
// Portico-specific; tests/kit/upstream.rs starts it and drives its pages.
// Version 8.x: oidc-provider 9 supports only Node.js 22+ (it warns "Unsupported
// runtime" on 20), and 8.x is the newest line that supports Node.js 20.
//
// Input: the environment variable UPSTREAM_CONFIG, one JSON object:
//   { "clients":  [{ "client_id", "client_secret", "redirect_uris": [...], ...more client metadata }],
//     "accounts": [{ "sub", "email", "email_verified", "name", "amr"?, "acr"? }] }
// An account's optional `amr` (array) and `acr` (string) are what its sign-in
// asserts in the ID token, as a home IdP with MFA would.
// Output: exactly one stdout line once listening, {"issuer":"http://127.0.0.1:PORT"}.
// Everything else (oidc-provider's development-mode warnings) goes to stderr.
// Exits when killed or when stdin closes, so it never outlives the test process.
//
// Sign-in uses oidc-provider's built-in development interactions:
//   GET  /interaction/:uid  login page:   <form action="<issuer>/interaction/:uid" method="post">
//                                          prompt=login (hidden), login=<account sub>, password=<anything>
//   GET  /interaction/:uid  consent page: same action, prompt=consent (hidden), button "Continue"
// Authorization code + PKCE (only S256, required for every client); client_secret_basic and
// client_secret_post both work for a client with a secret; ID tokens are RS256 with a key
// generated at start; email, email_verified and name are in the ID token and from userinfo.
// ID tokens always carry auth_time (clients default to require_auth_time).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

// oidc-provider prints its notices with console.info (stdout): keep stdout for the issuer line.
console.info = console.error;
console.log = console.error;

const config = JSON.parse(process.env.UPSTREAM_CONFIG ?? 'null');
if (!config || !Array.isArray(config.clients) || !Array.isArray(config.accounts)) {
  console.error('UPSTREAM_CONFIG must be {"clients":[...],"accounts":[...]}');
  process.exit(2);
}
const accounts = new Map(config.accounts.map((account) => [account.sub, account]));

// A fresh RS256 signing key per run (not oidc-provider's published development key).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `upstream-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: config.clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      require_auth_time: true,
      ...client,
    })),
    jwks: { keys: [signingKey] },
    responseTypes: ['code'],
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'profile', 'email'],
    claims: {
      // The login's amr and acr go in the ID token only when a scope names them.
      acr: null,
      amr: null,
      openid: ['sub', 'acr', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Put the scope's claims in the ID token too, not only behind userinfo.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
    },
    // Plain http on 127.0.0.1: cookies must not be Secure (oidc-provider only adds
    // Secure itself when the request is https), and so not SameSite=None either,
    // which is this version's default for the long-lived session cookie. Cookies
    // ignore ports, so the names carry it: Portico and other upstreams on
    // 127.0.0.1 in the same browser keep their own.
    cookies: {
      names: {
        session: `upstream_${port}_session`,
        interaction: `upstream_${port}_interaction`,
        resume: `upstream_${port}_interaction_resume`,
      },
      keys: [randomBytes(32).toString('base64url')],
      long: { secure: false, sameSite: 'lax', signed: true },
      short: { secure: false, sameSite: 'lax', signed: true },
    },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: account.email,
            email_verified: account.email_verified,
            name: account.name,
          };
        },
      };
    },
  });
  // The development login form only names the account; what the account's
  // sign-in asserts (amr, acr) is added to the login result here.
  const finished = provider.interactionFinished.bind(provider);
  provider.interactionFinished = async (req, res, result, options) => {
    const account = result?.login && accounts.get(result.login.accountId);
    if (account) {
      const login = { ...result.login };
      if (Array.isArray(account.amr)) login.amr = account.amr;
      if (typeof account.acr === 'string') login.acr = account.acr;
      return finished(req, res, { ...result, login }, options);
    }
    return finished(req, res, result, options);
  };
  provider.on('server_error', (_ctx, err) => console.error('upstream server_error', err));

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
