// The OpenID provider of the admin sign-in tests: panva's oidc-provider (OpenID Certified),
// configured like ProConnect as far as the admin console depends on it: authorization code
// with PKCE, ProConnect's scopes and claims (given_name, usual_name, email, uid, siret),
// userinfo answered as a signed JWT (application/jwt), RP-initiated logout.
//
// Run by tests/admin/oidc_peer.py:  node server.mjs <port> <config.json>
// config.json: {"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris",
//               "accounts": {"<login>": {claims...}}}
// Sign-in uses the package's own login and consent pages (devInteractions): the login is the
// account id, any password is accepted; unknown logins are refused by findAccount.
//
// Test controls (never part of a real provider), under /__test/:
//   POST /__test/advance?seconds=N   the provider's clock jumps N seconds (expired codes)
//   POST /__test/reset               clock back to real time, no tampering armed
//   POST /__test/tamper?target=id_token|userinfo
//        the next token (or userinfo) response carries a JWT whose payload was changed after
//        signing: the signature no longer matches, as with a token altered on the way.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const [port, configPath] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

const realNow = Date.now;
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;
const tamper = { id_token: false, userinfo: false };

function alterPayload(jwt) {
  const [header, payload, signature] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  claims.email = 'mallory@attaquant.example';
  claims.sub = `${claims.sub}-altered`;
  const altered = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${header}.${altered}.${signature}`;
}

const accounts = config.accounts;
const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    post_logout_redirect_uris: config.post_logout_redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    userinfo_signed_response_alg: 'RS256',
  }],
  claims: {
    openid: ['sub'],
    email: ['email'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    uid: ['uid'],
    siret: ['siret'],
  },
  features: {
    devInteractions: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  cookies: { keys: ['socle-test-oidc-cookie-key'] },
  ttl: { AuthorizationCode: 60, IdToken: 3600, AccessToken: 3600, Interaction: 3600, Session: 3600, Grant: 3600 },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(accounts, id)) return undefined;
    return {
      accountId: id,
      async claims() { return { sub: id, ...accounts[id] }; },
    };
  },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'token' && tamper.id_token && ctx.body?.id_token) {
    tamper.id_token = false;
    ctx.body = { ...ctx.body, id_token: alterPayload(ctx.body.id_token) };
  }
  if (ctx.oidc?.route === 'userinfo' && tamper.userinfo && typeof ctx.body === 'string') {
    tamper.userinfo = false;
    ctx.body = alterPayload(ctx.body);
    ctx.type = 'application/jwt';
  }
});

const handler = provider.callback();
createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/__test/') && req.method === 'POST') {
    if (url.pathname === '/__test/advance') {
      offsetMs += Number(url.searchParams.get('seconds') || '0') * 1000;
    } else if (url.pathname === '/__test/reset') {
      offsetMs = 0;
      tamper.id_token = false;
      tamper.userinfo = false;
    } else if (url.pathname === '/__test/tamper') {
      const target = url.searchParams.get('target');
      if (!(target in tamper)) { res.writeHead(400); res.end('unknown target'); return; }
      tamper[target] = true;
    } else { res.writeHead(404); res.end(); return; }
    res.writeHead(204);
    res.end();
    return;
  }
  handler(req, res);
}).listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
