// The peer OP for bench/run: npm oidc-provider, configured like Portico's
// benchmark set-up, in-memory storage (its default adapter):
// - CLIENT_ID: a confidential client (client_secret_basic) allowed
//   client_credentials, with RS256 JWT access tokens (RFC 9068 via resource
//   indicators);
// - CLIENT_ID-opaque: the same with opaque access tokens. oidc-provider refuses
//   to introspect its JWT access tokens ("Structured JWT Tokens cannot be
//   introspected"), so the introspection run uses this one;
// - CLIENT_ID-web: a confidential web app for the code + PKCE flow, refresh
//   tokens (offline_access, which oidc-provider honours only with
//   prompt=consent: the load generator sends it on every flow) rotated on
//   every use, like Portico. Its access tokens are oidc-provider's opaque
//   userinfo tokens: it refuses tokens with an audience (its JWT access
//   tokens) at userinfo ("token audience prevents accessing the userinfo
//   endpoint").
// Sign-in is devInteractions: its login form accepts any login and password
// (nothing is hashed), then its consent form.
// Usage: node peer.mjs PORT CLIENT_ID CLIENT_SECRET
import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';

const [port, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' };
const RESOURCE = 'urn:portico-bench';
const webClientId = `${clientId}-web`;

const provider = new Provider(issuer, {
  clients: [
    ...[clientId, `${clientId}-opaque`].map((id) => ({
      client_id: id,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    {
      client_id: webClientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['http://127.0.0.1:9/callback'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [clientSecret] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Every devInteractions login names an account; its claims, as Portico's userinfo gives them.
  findAccount: (ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, email: sub, email_verified: true, name: sub }),
  }),
  rotateRefreshToken: () => true,
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client) => (client.clientId === webClientId ? undefined : RESOURCE),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: 'api',
        audience: RESOURCE,
        accessTokenTTL: 300,
        accessTokenFormat: client.clientId === clientId ? 'jwt' : 'opaque',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`peer listening on ${issuer}`);
});
