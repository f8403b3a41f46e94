// Drives Sanad's OpenID4VCI credential issuer with independent
// implementations: the `@openid4vc/openid4vci` client runs the
// pre-authorized code flow (offer, metadata, token with tx_code and DPoP,
// nonce, proof, credential, notification), `@sd-jwt/sd-jwt-vc` verifies the
// SD-JWT VC, its disclosures and a key-bound presentation, and `jose`
// verifies the JWT VC. Offers are created through the admin API; the tx_code
// is read from the demo outbox, as a resident would read it from an SMS.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createPublicKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import * as jose from 'jose';
import {
  Openid4vciClient, Openid4vciRetrieveCredentialsError, Openid4vciVersion, setGlobalConfig,
} from '@openid4vc/openid4vci';
import {
  Oauth2ClientErrorResponseError, clientAuthenticationAnonymous, preAuthorizedCodeGrantIdentifier,
} from '@openid4vc/oauth2';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, ES256, ES384, ES512 } from '@sd-jwt/crypto-nodejs';

const base = process.env.INTEROP_SANAD_URL;
const dataDir = process.env.INTEROP_DATA_DIR;
const issuerId = `${base}/issuer`;
const uin = '9169748726'; // Amina Diallo, a demo resident (idrepo/demo/residents.json)
const resident = { fullName: 'Amina Diallo', phone: '+447700900101', email: 'amina.diallo@example.org' };
// Her claims as templates/national-id-sd-jwt renders them (OpenID Connect
// names, English first) ...
const sdJwtClaims = {
  name: 'Amina Diallo', given_name: 'Amina', family_name: 'Diallo', birthdate: '1990-05-14', gender: 'Female',
  address: { street_address: '12 Baobab Street', locality: 'Dakar', postal_code: '10200' },
};
// ... and as templates/national-id-jwt-vc does (MOSIP names, every language).
const jwtVcClaims = {
  fullName: [{ language: 'eng', value: 'Amina Diallo' }, { language: 'fra', value: 'Amina Diallo' }, { language: 'ara', value: 'أمينة ديالو' }],
  givenName: [{ language: 'eng', value: 'Amina' }, { language: 'fra', value: 'Amina' }, { language: 'ara', value: 'أمينة' }],
  familyName: [{ language: 'eng', value: 'Diallo' }, { language: 'fra', value: 'Diallo' }, { language: 'ara', value: 'ديالو' }],
  dateOfBirth: '1990-05-14',
  city: [{ language: 'eng', value: 'Dakar' }, { language: 'fra', value: 'Dakar' }, { language: 'ara', value: 'داكار' }],
  postalCode: '10200',
};
const sortLangs = (v) => (Array.isArray(v) ? [...v].sort((a, b) => a.language.localeCompare(b.language)) : v);
const sdJwtConfig = 'national-id-sd-jwt';
const jwtVcConfig = 'national-id-jwt-vc';

// The interop run serves plain http on loopback; the library refuses
// non-https URLs unless told otherwise.
setGlobalConfig({ allowInsecureUrls: true });

const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

// --- keys the wallet holds -------------------------------------------------

const privateKeys = new Map(); // publicJwk.x → private CryptoKey

async function newKey() {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  privateKeys.set(publicJwk.x, privateKey);
  return { publicJwk, privateKey, privateJwk: await jose.exportJWK(privateKey) };
}

const didJwk = (jwk) => `did:jwk:${Buffer.from(JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y })).toString('base64url')}`;

function sameKey(got, want, what) {
  assert.ok(got, `${what}: no key`);
  for (const m of ['kty', 'crv', 'x', 'y']) assert.equal(got[m], want[m], `${what}: ${m} differs`);
  for (const priv of ['d', 'p', 'q']) assert.equal(got[priv], undefined, `${what}: has private member ${priv}`);
}

// --- the openid4vci client ---------------------------------------------------

const callbacks = {
  fetch: (...args) => fetch(...args),
  hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '')).update(data).digest()),
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  clientAuthentication: clientAuthenticationAnonymous(), // the pre-authorized grant needs no client
  signJwt: async (signer, { header, payload }) => {
    let publicJwk;
    if (signer.method === 'jwk') publicJwk = signer.publicJwk;
    else if (signer.method === 'did' && signer.didUrl.startsWith('did:jwk:')) publicJwk = b64json(signer.didUrl.slice(8).split('#')[0]);
    else throw new Error(`test wallet cannot sign for ${signer.method}`);
    const key = privateKeys.get(publicJwk.x);
    assert.ok(key, 'signJwt: unknown key');
    const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header).sign(key);
    return { jwt, signerJwk: publicJwk };
  },
};
const client = new Openid4vciClient({ callbacks });

// --- Sanad: admin API, outbox, issuer keys -----------------------------------

function adminToken() {
  if (process.env.SANAD_ADMIN_TOKEN) return process.env.SANAD_ADMIN_TOKEN;
  return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
}

const outboxFile = () => join(dataDir, 'outbox.jsonl');
const outboxLines = () => (existsSync(outboxFile()) ? readFileSync(outboxFile(), 'utf8').split('\n').filter(Boolean) : []);

// createOffer asks Sanad for a pre-authorized offer with a 6-digit tx_code and
// returns the offer response and the tx_code the resident received.
async function createOffer(configurationId) {
  const seen = outboxLines().length;
  const res = await fetch(`${base}/v1/credential-offers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken()}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      individualId: uin,
      credential_configuration_ids: [configurationId],
      tx_code: { length: 6, input_mode: 'numeric' },
    }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, `POST /v1/credential-offers: ${res.status} ${text}`);
  const offer = JSON.parse(text);
  let txCode;
  for (let i = 0; i < 50 && !txCode; i++) {
    const sent = outboxLines().slice(seen).map((l) => JSON.parse(l)).filter((m) => m.purpose === 'tx-code');
    if (sent.length) {
      for (const m of sent) assert.ok([resident.phone, resident.email].includes(m.to), `tx_code sent to ${m.to}`);
      txCode = sent.at(-1).otp;
    } else await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(txCode, 'no tx-code message in the outbox');
  assert.match(txCode, /^[0-9]{6}$/);
  return { offer, txCode };
}

let issuerJwks; // the SD-JWT VC issuer keys, from /.well-known/jwt-vc-issuer

async function getJSON(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `GET ${url}: content type`);
  return res.json();
}

// issuerVerifier is the sd-jwt library's signature callback: it picks the
// issuer key by the JWT's kid and verifies with @sd-jwt/crypto-nodejs (ES*)
// or node:crypto (EdDSA, RS*, PS*).
async function issuerVerifier(data, signature) {
  const header = b64json(data.split('.')[0]);
  const jwk = issuerJwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `no issuer key with kid ${header.kid}`);
  if (jwk.alg) assert.equal(jwk.alg, header.alg, 'alg of the JWT differs from its key');
  return verifyJWS(header.alg, jwk, data, signature);
}

async function verifyJWS(alg, jwk, data, signature) {
  const es = { ES256, ES384, ES512 }[alg];
  if (es) return (await es.getVerifier(jwk))(data, signature);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const sig = Buffer.from(signature, 'base64url');
  switch (alg) {
    case 'EdDSA': case 'Ed25519': return cryptoVerify(null, Buffer.from(data), key, sig);
    case 'RS256': return cryptoVerify('sha256', Buffer.from(data), key, sig);
    case 'PS256': return cryptoVerify('sha256', Buffer.from(data), { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, sig);
    default: throw new Error(`unexpected alg ${alg}`);
  }
}

// The verifier's view: the issuer's key, sha-256, and the holder key from
// cnf for key binding.
const verifierSdJwt = new SDJwtVcInstance({
  hasher: digest,
  hashAlg: 'sha-256',
  verifier: issuerVerifier,
  kbVerifier: async (data, signature, payload) => {
    const header = b64json(data.split('.')[0]);
    assert.equal(header.alg, 'ES256');
    return (await ES256.getVerifier(payload.cnf.jwk))(data, signature);
  },
});

before(async () => {
  const meta = await getJSON(`${base}/.well-known/jwt-vc-issuer/issuer`);
  assert.equal(meta.issuer, issuerId, 'jwt-vc-issuer metadata: issuer');
  issuerJwks = meta.jwks ?? await getJSON(meta.jwks_uri);
  assert.ok(issuerJwks.keys.length > 0, 'jwt-vc-issuer metadata: no keys');
});

// --- the flow ----------------------------------------------------------------

// receive runs the wallet side of the pre-authorized code flow for an offer
// and returns what it received.
async function receive({ offer, txCode }, configurationId, { holder, holderSigner, dpopKey }) {
  assert.match(offer.offer_url, /^openid-credential-offer:\/\/\?credential_offer_uri=/);
  const credentialOffer = await client.resolveCredentialOffer(offer.offer_url);
  assert.equal(credentialOffer.credential_issuer, issuerId);
  assert.deepEqual(credentialOffer.credential_configuration_ids, [configurationId]);
  const grant = credentialOffer.grants[preAuthorizedCodeGrantIdentifier];
  assert.ok(grant?.['pre-authorized_code'], 'offer without a pre-authorized code');
  assert.equal(grant.tx_code.length, 6);
  assert.equal(grant.tx_code.input_mode, 'numeric');
  assert.deepEqual(offer.credential_offer, credentialOffer, 'offer by value and by reference differ');

  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  assert.equal(issuerMetadata.originalDraftVersion, Openid4vciVersion.V1);
  assert.ok(issuerMetadata.knownCredentialConfigurations[configurationId], `${configurationId} not usable by the client`);
  assert.ok(issuerMetadata.credentialIssuer.nonce_endpoint, 'no nonce_endpoint');
  const [as] = issuerMetadata.authorizationServers;
  assert.equal(as.issuer, base);
  assert.ok(as.grant_types_supported?.includes(preAuthorizedCodeGrantIdentifier), 'AS does not list the pre-authorized grant');

  const dpop = dpopKey ? { signer: { method: 'jwk', alg: 'ES256', publicJwk: dpopKey.publicJwk } } : undefined;
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode, dpop,
  });
  assert.equal(accessTokenResponse.token_type.toLowerCase(), dpop ? 'dpop' : 'bearer');

  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  assert.ok(nonce);
  const { jwt: proof } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, signer: holderSigner, nonce, issuedAt: new Date(),
  });
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId: configurationId, accessToken: accessTokenResponse.access_token,
    proofs: { jwt: [proof] }, dpop: dpop && { signer: dpop.signer }, // the issuer's DPoP nonces are not the AS's
  });
  assert.equal(credentialResponse.credentials?.length, 1, 'want one credential');
  const { credential } = credentialResponse.credentials[0];
  assert.equal(typeof credential, 'string');

  assert.ok(credentialResponse.notification_id, 'no notification_id');
  const notified = await client.sendNotification({
    issuerMetadata, accessToken: accessTokenResponse.access_token, dpop: dpop && { signer: dpop.signer },
    notification: { notificationId: credentialResponse.notification_id, event: 'credential_accepted' },
  });
  assert.equal(notified.response.status, 204);
  return { credential, issuerMetadata, credentialOffer, accessTokenResponse, dpop, holder };
}

let sdJwtVc; // { credential, holder }

test('openid4vci client receives an SD-JWT VC with a pre-authorized code, tx_code and DPoP', async () => {
  const holder = await newKey();
  const dpopKey = await newKey();
  const got = await receive(await createOffer(sdJwtConfig), sdJwtConfig, {
    holder, dpopKey, holderSigner: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk },
  });
  const conf = got.issuerMetadata.credentialIssuer.credential_configurations_supported[sdJwtConfig];
  assert.equal(conf.format, 'dc+sd-jwt');
  assert.equal(conf.vct, `${issuerId}/national-id`);
  sdJwtVc = { credential: got.credential, holder };

  // The nonce endpoint's answer is not cached (OpenID4VCI 1.0 section 7.2).
  const nonceRes = await fetch(got.issuerMetadata.credentialIssuer.nonce_endpoint, { method: 'POST' });
  assert.equal(nonceRes.status, 200);
  assert.equal(nonceRes.headers.get('cache-control'), 'no-store');
  assert.ok((await nonceRes.json()).c_nonce);

  // The token is bound to the DPoP key: as a bearer token it is refused
  // (RFC 9449 section 7.1).
  const asBearer = await fetch(got.issuerMetadata.credentialIssuer.credential_endpoint, {
    method: 'POST',
    headers: { Authorization: `Bearer ${got.accessTokenResponse.access_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ credential_configuration_id: sdJwtConfig }),
  });
  assert.equal(asBearer.status, 401, 'DPoP-bound token accepted as a bearer token');
});

test('sd-jwt-vc verifies the SD-JWT VC: issuer signature, typ, vct, cnf, disclosures', async () => {
  assert.ok(sdJwtVc, 'no credential (previous test failed)');
  const { credential, holder } = sdJwtVc;
  assert.ok(credential.endsWith('~'), 'an issued SD-JWT ends with ~ (no KB-JWT)');
  const { payload, header, kb } = await verifierSdJwt.verify(credential);
  assert.equal(kb, undefined);
  assert.equal(header.typ, 'dc+sd-jwt');
  assert.equal(payload.iss, issuerId);
  assert.equal(payload.vct, `${issuerId}/national-id`);
  assert.equal(typeof payload.iat, 'number');
  sameKey(payload.cnf?.jwk, holder.publicJwk, 'cnf.jwk');

  for (const [k, v] of Object.entries(sdJwtClaims)) assert.deepEqual(payload[k], v, `claim ${k}`);

  // Every personal claim is selectively disclosable: none is in the signed
  // payload in clear, each has a disclosure, and the nested address claims
  // have their own.
  const decoded = await verifierSdJwt.decode(credential);
  assert.equal(decoded.jwt.payload._sd_alg, 'sha-256');
  for (const k of Object.keys(sdJwtClaims)) assert.ok(!(k in decoded.jwt.payload), `${k} is in the payload in clear`);
  const disclosed = new Set(decoded.disclosures.filter((d) => d.key).map((d) => d.key));
  for (const k of [...Object.keys(sdJwtClaims), ...Object.keys(sdJwtClaims.address)]) assert.ok(disclosed.has(k), `no disclosure for ${k}`);
  for (const always of ['iss', 'vct', 'cnf', 'iat', 'exp', 'status']) {
    assert.ok(!disclosed.has(always), `${always} must not be selectively disclosable`);
  }
  if (payload.exp !== undefined) assert.ok(payload.exp > payload.iat, 'exp before iat');
  // A changed payload no longer verifies.
  const [jwt, ...rest] = credential.split('~');
  const [h, p, sig] = jwt.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ ...decoded.jwt.payload, vct: `${issuerId}/other` })).toString('base64url');
  await assert.rejects(verifierSdJwt.verify([[h, forgedPayload, sig].join('.'), ...rest].join('~')), /Signature/i, 'forged SD-JWT accepted');

  // Salts are distinct and can hold 128 bits (RFC 9901 section 9.3): at
  // least 22 characters, as base64url.
  const salts = decoded.disclosures.map((d) => d.salt);
  assert.equal(new Set(salts).size, salts.length, 'salts repeat');
  for (const s of salts) assert.ok(s.length >= 22, `salt ${s} is too short for 128 bits`);
});

test('sd-jwt-vc verifies a presentation disclosing a subset, with key binding', async () => {
  assert.ok(sdJwtVc, 'no credential (previous test failed)');
  const { credential, holder } = sdJwtVc;
  const holderSdJwt = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', kbSigner: await ES256.getSigner(holder.privateJwk), kbSignAlg: 'ES256',
  });
  const keys = await holderSdJwt.presentableKeys(credential);
  assert.ok(keys.includes('name') && keys.includes('birthdate') && keys.includes('address.locality'), `presentable keys: ${keys}`);

  const nonce = randomBytes(16).toString('base64url');
  const aud = 'https://verifier.example';
  const presentation = await holderSdJwt.present(credential, { name: true, address: { locality: true } }, {
    kb: { payload: { aud, nonce, iat: Math.floor(Date.now() / 1000) } },
  });
  const { payload, kb } = await verifierSdJwt.verify(presentation, { keyBindingNonce: nonce });
  assert.equal(kb.header.typ, 'kb+jwt');
  assert.equal(kb.payload.aud, aud);
  assert.equal(payload.name, sdJwtClaims.name);
  assert.deepEqual(payload.address, { locality: 'Dakar' }, 'address: only the locality is disclosed');
  for (const k of ['given_name', 'family_name', 'birthdate', 'gender']) assert.ok(!(k in payload), `withheld claim ${k} is visible`);
  assert.equal(payload.vct, `${issuerId}/national-id`);

  // A KB-JWT by another key, or for another nonce, is refused.
  const other = await newKey();
  const forger = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', kbSigner: await ES256.getSigner(other.privateJwk), kbSignAlg: 'ES256',
  });
  const forged = await forger.present(credential, { name: true }, { kb: { payload: { aud, nonce, iat: Math.floor(Date.now() / 1000) } } });
  await assert.rejects(verifierSdJwt.verify(forged, { keyBindingNonce: nonce }), /Signature/i, 'KB-JWT by another key accepted');
  await assert.rejects(verifierSdJwt.verify(presentation, { keyBindingNonce: 'another-nonce' }), /Nonce/i, 'KB-JWT nonce not checked');
});

test('jose verifies the jwt_vc_json credential bound to a did:jwk holder', async () => {
  const holder = await newKey();
  const did = didJwk(holder.publicJwk);
  const { credential, issuerMetadata } = await receive(await createOffer(jwtVcConfig), jwtVcConfig, {
    holder, holderSigner: { method: 'did', didUrl: `${did}#0`, alg: 'ES256' }, // bearer token
  });
  const conf = issuerMetadata.credentialIssuer.credential_configurations_supported[jwtVcConfig];
  assert.equal(conf.format, 'jwt_vc_json');
  const algs = conf.credential_signing_alg_values_supported;
  assert.ok(algs?.length, 'no credential_signing_alg_values_supported');

  const jwks = await getJSON(`${issuerId}/jwks.json`);
  assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), issuerJwks.keys.map((k) => k.kid).sort(),
    'jwks.json and jwt-vc-issuer metadata disagree');
  const { payload, protectedHeader } = await jose.jwtVerify(credential, jose.createLocalJWKSet(jwks), {
    issuer: issuerId, algorithms: algs,
  });
  assert.equal(protectedHeader.typ, 'JWT'); // VCDM 1.1 JWT encoding
  assert.ok(protectedHeader.kid, 'no kid');
  assert.equal(payload.sub, did);
  assert.ok(payload.jti, 'no jti');
  assert.equal(typeof payload.nbf, 'number');
  const { vc } = payload;
  assert.ok(vc, 'no vc claim');
  assert.ok(vc.type.includes('VerifiableCredential') && vc.type.includes('NationalIDCredential'), `vc.type ${vc.type}`);
  assert.ok(vc['@context']?.[0]?.startsWith('https://www.w3.org/'), `@context ${vc['@context']}`);
  assert.equal(vc.credentialSubject.id, did);
  if (payload.cnf) sameKey(payload.cnf.jwk, holder.publicJwk, 'cnf.jwk');
  for (const [k, v] of Object.entries(jwtVcClaims)) assert.deepEqual(sortLangs(vc.credentialSubject[k]), sortLangs(v), `credentialSubject.${k}`);

  const [h, p, s] = credential.split('.');
  const forged = [h, Buffer.from(JSON.stringify({ ...payload, sub: 'did:example:mallory' })).toString('base64url'), s].join('.');
  await assert.rejects(jose.jwtVerify(forged, jose.createLocalJWKSet(jwks), { algorithms: algs }),
    (e) => e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
});

// --- what the issuer must refuse -----------------------------------------------

async function credentialError(promise) {
  const err = await promise.then(() => undefined, (e) => e);
  assert.ok(err instanceof Openid4vciRetrieveCredentialsError, `want a credential error, got ${err ?? 'a credential'}`);
  const { response, credentialErrorResponseResult } = err.response;
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.ok(credentialErrorResponseResult?.success, 'error response is not an OpenID4VCI error object');
  return { status: response.status, ...credentialErrorResponseResult.data };
}

test('issuer refuses a wrong tx_code, a replayed pre-authorized code, a proof for another audience and a reused nonce', async () => {
  const holder = await newKey();
  const holderSigner = { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk };
  const { offer, txCode } = await createOffer(sdJwtConfig);
  const credentialOffer = await client.resolveCredentialOffer(offer.offer_url);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const tokenError = async (code) => {
    const err = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: code })
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof Oauth2ClientErrorResponseError, `want a token error, got ${err ?? 'a token'}`);
    assert.equal(err.response.status, 400);
    return err.errorResponse.error;
  };

  // A wrong tx_code is invalid_grant (section 6.3) and, below the attempt
  // limit, leaves the code usable.
  const wrong = String((Number(txCode) + 1) % 1000000).padStart(6, '0');
  assert.equal(await tokenError(wrong), 'invalid_grant', 'wrong tx_code');
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode });
  const accessToken = accessTokenResponse.access_token;

  // The pre-authorized code is single use (OpenID4VCI 1.0 section 6.1; RFC 6749 section 5.2).
  assert.equal(await tokenError(txCode), 'invalid_grant', 'replayed pre-authorized code');

  const request = (proof) => client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId: sdJwtConfig, accessToken, proofs: { jwt: [proof] },
  });
  const proofJWT = async (claims) => new jose.SignJWT(claims)
    .setProtectedHeader({ typ: 'openid4vci-proof+jwt', alg: 'ES256', jwk: holder.publicJwk })
    .sign(holder.privateKey);

  // A proof whose aud is not the credential issuer (section 8.2.1.1).
  const { c_nonce: n1 } = await client.requestNonce({ issuerMetadata });
  const wrongAud = await credentialError(request(await proofJWT({ aud: 'https://other-issuer.example', nonce: n1, iat: Math.floor(Date.now() / 1000) })));
  assert.equal(wrongAud.status, 400);
  assert.equal(wrongAud.error, 'invalid_proof');

  // A nonce is good for one request (section 7): the second use is invalid_nonce.
  const { c_nonce: n2 } = await client.requestNonce({ issuerMetadata });
  const first = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: sdJwtConfig, signer: holderSigner, nonce: n2, issuedAt: new Date() });
  const { credentialResponse } = await request(first.jwt);
  assert.equal(credentialResponse.credentials.length, 1);
  const again = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: sdJwtConfig, signer: holderSigner, nonce: n2, issuedAt: new Date() });
  const reused = await credentialError(request(again.jwt));
  assert.equal(reused.status, 400);
  assert.equal(reused.error, 'invalid_nonce');
});

test('a credential request by the credential_identifier of the token response is served', async () => {
  // OpenID4VCI 1.0 section 8.2: with authorization_details in the token
  // response, the wallet names the credential by credential_identifier. The
  // library sends credential_configuration_id, so this request is built by hand.
  const holder = await newKey();
  const { offer, txCode } = await createOffer(sdJwtConfig);
  const credentialOffer = await client.resolveCredentialOffer(offer.offer_url);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode });
  const details = accessTokenResponse.authorization_details ?? [];
  const detail = details.find((d) => d.type === 'openid_credential' && d.credential_configuration_id === sdJwtConfig);
  assert.ok(detail?.credential_identifiers?.length, `no credential_identifiers in ${JSON.stringify(details)}`);

  const post = async (req) => {
    const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: sdJwtConfig, signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk }, nonce, issuedAt: new Date(),
    });
    const res = await fetch(issuerMetadata.credentialIssuer.credential_endpoint, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessTokenResponse.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...req, proofs: { jwt: [jwt] } }),
    });
    return { status: res.status, body: await res.json() };
  };
  const ok = await post({ credential_identifier: detail.credential_identifiers[0] });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const { payload } = await verifierSdJwt.verify(ok.body.credentials[0].credential);
  sameKey(payload.cnf?.jwk, holder.publicJwk, 'cnf.jwk');

  const unknown = await post({ credential_identifier: 'no-such-identifier' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error, 'unknown_credential_identifier');
});

test('a draft-13 wallet: the client reads the draft-13 metadata and receives both credentials by format', async () => {
  // Inji wallets read ?version=draft13 metadata, take c_nonce from the token
  // response and send format-based requests with a single proof. The same
  // library speaks draft 13 when the metadata is in that shape.
  const draft13Client = new Openid4vciClient({
    callbacks: {
      ...callbacks,
      fetch: (url, init) => fetch(String(url).includes('/.well-known/openid-credential-issuer') ? `${url}?version=draft13` : url, init),
    },
  });
  for (const configurationId of [sdJwtConfig, jwtVcConfig]) {
    const holder = await newKey();
    const { offer, txCode } = await createOffer(configurationId);
    const credentialOffer = await draft13Client.resolveCredentialOffer(offer.offer_url);
    const issuerMetadata = await draft13Client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    assert.equal(issuerMetadata.originalDraftVersion, Openid4vciVersion.Draft14, 'draft-13 metadata not read as draft 13/14');
    assert.ok(issuerMetadata.knownCredentialConfigurations[configurationId], `${configurationId} not usable by a draft-13 client`);
    const { accessTokenResponse } = await draft13Client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode });
    assert.ok(accessTokenResponse.c_nonce, 'no c_nonce in the token response');
    const { jwt } = await draft13Client.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: configurationId, signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk },
      nonce: accessTokenResponse.c_nonce, issuedAt: new Date(),
    });
    const { credentialResponse } = await draft13Client.retrieveCredentials({
      issuerMetadata, credentialConfigurationId: configurationId, accessToken: accessTokenResponse.access_token,
      proof: { proof_type: 'jwt', jwt },
    });
    const { credential } = credentialResponse; // draft 13: credential, not credentials
    assert.equal(typeof credential, 'string', `no credential in ${JSON.stringify(credentialResponse)}`);
    if (configurationId === sdJwtConfig) {
      const { payload } = await verifierSdJwt.verify(credential);
      assert.equal(payload.vct, `${issuerId}/national-id`);
      sameKey(payload.cnf?.jwk, holder.publicJwk, 'cnf.jwk');
    } else {
      const { payload } = await jose.jwtVerify(credential, jose.createLocalJWKSet(issuerJwks), { issuer: issuerId, algorithms: ['ES256'] });
      assert.ok(payload.vc.type.includes('NationalIDCredential'));
      assert.equal(payload.vc.credentialSubject.fullName.find((l) => l.language === 'eng')?.value, resident.fullName);
    }
  }
});
