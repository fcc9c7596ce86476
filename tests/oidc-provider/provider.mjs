// An independent OpenID provider for careid's interoperability tests: node `oidc-provider`
// (panva), configured as close to CIS2 Authentication as it allows. Nobody on the careid team wrote
// its protocol code, so careid passing against it says something the mock cannot.
//
// Usage: node provider.mjs [--port N] [--client-secret S] [--client-jwks FILE] [--consent]
//                          [--access-token-ttl SECONDS] [--id-token-ttl SECONDS]
//                          [--refresh-token-ttl SECONDS]
//
// - `--port` (or OIDC_PROVIDER_PORT): the port on 127.0.0.1; 0 (the default) picks a free one.
// - `--client-secret`: the secret of the client_secret_basic client (default: a random GUID, as
//   CIS2 issues them).
// - `--client-jwks`: the public keys of the private_key_jwt client: a JWK Set (JSON) or a public
//   key in PEM (SPKI). Keys without a `kid` get their RFC 7638 thumbprint as `kid`. Without it,
//   that client is not registered.
// - `--consent`: show oidc-provider's consent page after the login page. By default consent is
//   given automatically, as CIS2 asks for none; the login page is always shown.
//
// Every client's ID tokens are signed RS256, except three client_secret_basic clients (same
// secret) that get them signed RS512, PS256 and ES256: the JWKS holds a key for each algorithm.
//
// When listening it prints one line on stdout:
//   READY {"issuer": "...", "port": N, "clients": [{"client_id": ..., "id_token_signed_response_alg": ..., ...}]}
// and logs every request (method, path without query, status) and every error on stderr.

import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { interactionPolicy } from 'oidc-provider';

/** The realm path, shaped like CIS2's (`/openam/oauth2/realms/root/realms/NHSIdentity/...`). */
const REALM_PATH = '/openam/oauth2/realms/root/realms/oidc';

/** Client ids in CIS2's `<12 digits>.apps.<kind>` form. */
const SECRET_CLIENT_ID = '555000000101.apps.local';
const KEY_CLIENT_ID = '555000000102.apps.local';

/**
 * The algorithms ID tokens are signed with: RS256 (CIS2's default, for the two clients above)
 * and, each for a client_secret_basic client of its own, RS512 (which CIS2 also registers) and
 * PS256 and ES256 (which it does not, to prove careid's verifier against an independent signer).
 */
const ID_TOKEN_ALGS = ['RS256', 'RS512', 'PS256', 'ES256'];
const ALG_CLIENT_IDS = {
  RS512: '555000000103.apps.local',
  PS256: '555000000104.apps.local',
  ES256: '555000000105.apps.local',
};

/** Registered redirect URIs: loopback IP, any port (RFC 8252 §7.3, through `application_type: native`). */
const REDIRECT_URIS = ['http://127.0.0.1/callback', 'http://[::1]/callback'];
const POST_LOGOUT_REDIRECT_URIS = ['http://127.0.0.1/signed-out', 'http://127.0.0.1/callback'];

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PROVIDER_PORT ?? '0' },
    'client-secret': { type: 'string' },
    'client-jwks': { type: 'string' },
    consent: { type: 'boolean', default: false },
    'access-token-ttl': { type: 'string', default: '3600' },
    'id-token-ttl': { type: 'string', default: '3600' },
    'refresh-token-ttl': { type: 'string', default: String(12 * 60 * 60) },
  },
});

function log(...parts) {
  console.error(`oidc-provider: ${parts.join(' ')}`);
}

function seconds(name) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`--${name} must be a positive whole number of seconds`);
  }
  return value;
}

/** RFC 7638 thumbprint of an RSA or EC public JWK. */
function thumbprint(jwk) {
  const members = jwk.kty === 'RSA'
    ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The private_key_jwt client's public keys, from a JWK Set file or a PEM public key. */
function clientJwks(path) {
  const text = readFileSync(path, 'utf8');
  let keys;
  if (text.trimStart().startsWith('-----BEGIN')) {
    keys = [createPublicKey(text).export({ format: 'jwk' })];
  } else {
    keys = JSON.parse(text).keys;
  }
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError(`${path} holds no public keys`);
  }
  return {
    keys: keys.map(({ d, p, q, dp, dq, qi, ...publicPart }) => ({
      use: 'sig',
      ...publicPart,
      kid: publicPart.kid ?? thumbprint(publicPart),
    })),
  };
}

/**
 * The provider's signing key for `alg` (RS*, PS* or ES256), fresh for every start like a rotated
 * CIS2 key. Each key is bound to its one algorithm (`alg`), so the JWKS holds one key per
 * algorithm and a token's `kid` names the key of its algorithm.
 */
function signingKey(alg) {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' };
}

/** A CIS2-like test user for any login name: the name is the subject (`uid`, `nhsid_useruid`). */
function account(accountId) {
  const roleId = '555000000201';
  const claims = {
    sub: accountId,
    // Assurance levels as CIS2 sends them: sometimes strings, sometimes numbers.
    id_assurance_level: '3',
    authentication_assurance_level: '3',
    name: `Test User ${accountId}`,
    given_name: 'Test',
    family_name: `User ${accountId}`,
    uid: accountId,
    email: `${accountId}@example.nhs.uk`,
    nhsid_useruid: accountId,
    title: 'Dr',
    idassurancelevel: 3,
    initials: 'TU',
    middle_names: '',
    display_name: `Test User ${accountId}`,
    nhsid_user_orgs: [{ org_code: 'A9A5A', org_name: 'NHSID DEV' }],
    nhsid_nrbac_roles: [{
      person_orgid: '555000000301',
      person_roleid: roleId,
      org_code: 'A9A5A',
      role_code: 'S8001:G8005:R8015',
      role_name: '"Admin & Clerical":"Systems Support":"Systems Support Access Role"',
    }],
    selected_roleid: roleId,
  };
  return {
    accountId,
    async claims() {
      return claims;
    },
  };
}

const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new TypeError('--port must be a port number (0 for any free port)');
}

// Listen first, so an ephemeral port is known before the issuer is.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const actualPort = server.address().port;
const issuer = `http://127.0.0.1:${actualPort}${REALM_PATH}`;

const clientSecret = args['client-secret'] ?? randomUUID();
const common = {
  application_type: 'native',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  response_modes: ['query'],
  redirect_uris: REDIRECT_URIS,
  post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
  id_token_signed_response_alg: 'RS256',
};
const clients = [{
  ...common,
  client_id: SECRET_CLIENT_ID,
  client_secret: clientSecret,
  token_endpoint_auth_method: 'client_secret_basic',
}];
for (const [alg, clientId] of Object.entries(ALG_CLIENT_IDS)) {
  clients.push({
    ...common,
    client_id: clientId,
    client_secret: clientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: alg,
  });
}
if (args['client-jwks']) {
  clients.push({
    ...common,
    client_id: KEY_CLIENT_ID,
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: clientJwks(args['client-jwks']),
  });
}

// oidc-provider always asks native clients (loopback redirects) for consent; CIS2 never does.
const policy = interactionPolicy.base();
if (!args.consent) {
  policy.get('consent').checks.remove('native_client_prompt');
}

const provider = new Provider(issuer, {
  interactions: { policy },
  clients,
  // RS256's key first: what a client that knows only CIS2's default finds first.
  jwks: { keys: ID_TOKEN_ALGS.map(signingKey) },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: (_ctx, id) => account(id),
  // CIS2's scopes (REFERENCE §4) and the claims they give.
  claims: {
    acr: null,
    auth_time: null,
    sid: null,
    openid: ['sub', 'id_assurance_level', 'authentication_assurance_level'],
    profile: ['name', 'given_name', 'family_name', 'uid'],
    email: ['email'],
    nhsperson: ['nhsid_useruid', 'title', 'idassurancelevel', 'initials', 'middle_names', 'display_name'],
    associatedorgs: ['nhsid_user_orgs'],
    nationalrbacaccess: ['nhsid_nrbac_roles'],
    selectedrole: ['selected_roleid'],
  },
  // CIS2 puts the scope claims it knows in the ID token too (`selected_roleid`, the levels).
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  // Confidential clients only, as CIS2: no `none`; `offline_access` is not needed for refresh tokens.
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
  scopes: ['openid'],
  pkce: { required: () => true },
  acrValues: ['AAL3_ANY', 'AAL2_OR_AAL3_ANY', 'AAL2_ANY', 'AAL1_USERPASS'],
  // A refresh token with every code, whatever the scope (no `offline_access` needed), rotated on
  // every use.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: seconds('access-token-ttl'),
    IdToken: seconds('id-token-ttl'),
    RefreshToken: seconds('refresh-token-ttl'),
    AuthorizationCode: 60,
    Grant: 12 * 60 * 60,
    Interaction: 60 * 60,
    Session: 12 * 60 * 60,
  },
  // CIS2 (ForgeRock AM) endpoint paths, relative to the issuer (REFERENCE §1).
  routes: {
    authorization: '/authorize',
    token: '/access_token',
    userinfo: '/userinfo',
    jwks: '/connect/jwk_uri',
    end_session: '/connect/endSession',
    revocation: '/token/revoke',
    introspection: '/introspect',
    // ForgeRock AM's path for pushed authorization requests (RFC 9126).
    pushed_authorization_request: '/par',
  },
  enabledJWA: {
    clientAuthSigningAlgValues: ['RS256', 'RS512', 'HS256', 'HS512'],
    idTokenSigningAlgValues: ID_TOKEN_ALGS,
  },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // Not published by CIS2, but careid pushes its authorization request whenever discovery
    // offers it (so a shared machine's command lines show no parameters): prove it here.
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    // Not CIS2 features: off, so nothing depends on them by accident.
    resourceIndicators: { enabled: false },
    dPoP: { enabled: false },
  },
  // CIS2 asks for no consent: give it for whatever was asked, unless `--consent`.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (args.consent) {
      return grant;
    }
    grant ??= new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
    grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    const text = Object.entries(out)
      .map(([key, value]) => `<p><strong>${key}</strong>: ${String(value).replace(/[<>&"']/g, '')}</p>`)
      .join('');
    ctx.body = `<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Error</h1>${text}</body></html>`;
  },
});
provider.proxy = false;

// Discovery lists only what CIS2 offers: the query response mode.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'discovery' && ctx.body) {
    ctx.body.response_modes_supported = ['query'];
  }
});

for (const event of [
  'server_error',
  'authorization.error',
  'pushed_authorization_request.error',
  'grant.error',
  'userinfo.error',
  'revocation.error',
  'introspection.error',
  'end_session.error',
  'backchannel.error',
  'jwks.error',
  'discovery.error',
]) {
  provider.on(event, (_ctx, error) => {
    log(event, error?.name ?? '', error?.message ?? '', error?.error_description ?? '', error?.error_detail ?? '');
  });
}
provider.on('grant.success', (ctx) => log('grant.success', ctx.oidc.params?.grant_type ?? ''));
provider.on('end_session.success', () => log('end_session.success'));

const callback = provider.callback();
handler = (req, res) => {
  const started = Date.now();
  const path = req.url.split('?')[0];
  res.on('finish', () => log(req.method, path, res.statusCode, `${Date.now() - started}ms`));
  if (req.url === REALM_PATH || req.url.startsWith(`${REALM_PATH}/`) || req.url.startsWith(`${REALM_PATH}?`)) {
    // Mounted under the realm path: oidc-provider works out its mount path from `originalUrl`.
    req.originalUrl = req.url;
    req.url = req.url.slice(REALM_PATH.length) || '/';
    callback(req, res);
  } else {
    res.statusCode = 404;
    res.setHeader('content-type', 'text/plain');
    res.end('not found: everything lives under the issuer path\n');
  }
};

const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

const ready = {
  issuer,
  port: actualPort,
  discovery: `${issuer}/.well-known/openid-configuration`,
  clients: clients.map((client) => ({
    client_id: client.client_id,
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    id_token_signed_response_alg: client.id_token_signed_response_alg,
    ...(client.client_secret ? { client_secret: client.client_secret } : {}),
    redirect_uris: client.redirect_uris,
  })),
};
process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
log(`listening at ${issuer}`);
