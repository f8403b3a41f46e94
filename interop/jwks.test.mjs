// Verifies tokens signed by Sanad's key service with `jose`, against the JWKS
// a running Sanad serves, before and after `sanad keys rotate`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as jose from 'jose';

const base = process.env.INTEROP_SANAD_URL;
const fixtures = JSON.parse(readFileSync(process.env.INTEROP_FIXTURES, 'utf8'));

async function fetchJWKS() {
  const res = await fetch(`${base}/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /application\/(jwk-set\+)?json/);
  return res.json();
}

test('JWKS has public keys only, one per signing algorithm', async () => {
  const jwks = await fetchJWKS();
  const algs = new Set(jwks.keys.filter((k) => k.use === 'sig').map((k) => k.alg));
  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) assert.ok(algs.has(alg), `no ${alg} key`);
  for (const k of jwks.keys) {
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined, `${k.kid} has ${priv}`);
    assert.ok(k.kid, 'key without kid');
    await jose.importJWK(k, k.alg); // every published key is importable as what it says it is
  }
});

test('jose verifies every token against the served JWKS', async () => {
  const keySet = jose.createLocalJWKSet(await fetchJWKS());
  assert.ok(fixtures.tokens.length >= 4);
  for (const { alg, token } of fixtures.tokens) {
    const { payload, protectedHeader } = await jose.jwtVerify(token, keySet, {
      algorithms: [alg], issuer: fixtures.issuer, audience: fixtures.audience,
    });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(payload.sub, 'pairwise-subject');
  }
});

test('jose rejects a tampered token', async () => {
  const keySet = jose.createLocalJWKSet(await fetchJWKS());
  for (const { alg, token } of fixtures.tokens) {
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    claims.sub = 'someone-else';
    const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
    await assert.rejects(jose.jwtVerify(forged, keySet, { algorithms: [alg] }),
      (e) => e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', `${alg}: tampered token accepted`);
  }
});

test('after sanad keys rotate, new keys are served and old tokens still verify', async () => {
  const before = new Set((await fetchJWKS()).keys.map((k) => k.kid));
  execFileSync(process.env.INTEROP_SANAD_BIN, ['keys', 'rotate', '--purpose', 'oidc-signing', '--data-dir', process.env.INTEROP_DATA_DIR],
    { stdio: 'pipe' });
  let after;
  for (let i = 0; i < 50; i++) { // the server refreshes its keys every second in this run
    after = await fetchJWKS();
    if (after.keys.filter((k) => !before.has(k.kid)).length >= 4) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const kids = new Set(after.keys.map((k) => k.kid));
  for (const kid of before) assert.ok(kids.has(kid), `retired key ${kid} no longer published`);
  assert.ok(after.keys.filter((k) => !before.has(k.kid)).length >= 4, 'rotation added no keys');
  const keySet = jose.createLocalJWKSet(after);
  for (const { alg, token } of fixtures.tokens) {
    await jose.jwtVerify(token, keySet, { algorithms: [alg], issuer: fixtures.issuer, audience: fixtures.audience });
  }
});
