// The peer OP for bench/run: npm oidc-provider, configured like Portico's
// benchmark set-up: one confidential client (client_secret_basic) allowed
// client_credentials, RS256 JWT access tokens (RFC 9068 via resource
// indicators), introspection on, in-memory storage (its default adapter).
// oidc-provider refuses to introspect its JWT access tokens ("Structured JWT
// Tokens cannot be introspected"), so a second client, CLIENT_ID-opaque, gets
// opaque access tokens for the introspection run.
// Usage: node peer.mjs PORT CLIENT_ID CLIENT_SECRET
import Provider from 'oidc-provider';
import { generateKeyPairSync } from 'node:crypto';

const [port, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' };
const RESOURCE = 'urn:portico-bench';

const provider = new Provider(issuer, {
  clients: [clientId, `${clientId}-opaque`].map((id) => ({
    client_id: id,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
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
