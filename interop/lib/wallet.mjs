// A test wallet and admin for a running Sanad (INTEROP_SANAD_URL, with its
// data dir INTEROP_DATA_DIR for the admin token): creates pre-authorized
// offers through the admin API and receives a credential with the
// `@openid4vc/openid4vci` client (token with DPoP, nonce, proof of the
// holder key). issuance.test.mjs checks the flow itself in detail; this is
// the short path to a credential.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import * as jose from 'jose';
import { Openid4vciClient, setGlobalConfig } from '@openid4vc/openid4vci';
import { clientAuthenticationAnonymous, preAuthorizedCodeGrantIdentifier } from '@openid4vc/oauth2';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';

export const base = process.env.INTEROP_SANAD_URL;
const dataDir = process.env.INTEROP_DATA_DIR;
// Kwame Mensah, a demo resident (idrepo/demo/residents.json) whom the
// other test files leave alone.
export const resident = {
  uin: '6294731423', fullName: 'Kwame Mensah', dateOfBirth: '2001-09-30',
};

setGlobalConfig({ allowInsecureUrls: true }); // the interop run serves plain http on loopback

const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

export function adminToken() {
  if (process.env.SANAD_ADMIN_TOKEN) return process.env.SANAD_ADMIN_TOKEN;
  return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
}

// admin calls the admin API and returns the status and the decoded body.
export async function admin(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, body: json, text };
}

export async function getJSON(url, contentType = /application\/(.+\+)?json/) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', contentType, `GET ${url}: content type`);
  return res.json();
}

// createOffer asks Sanad for a pre-authorized offer of configurationId to
// the resident. It has no tx_code: issuance.test.mjs checks those, and an
// offer without one sends no message to the outbox that the other test
// files, which node may run at the same time, read their tx_codes from.
export async function createOffer(configurationId) {
  const res = await admin('POST', '/v1/credential-offers', {
    individualId: resident.uin,
    credential_configuration_ids: [configurationId],
  });
  assert.equal(res.status, 201, `POST /v1/credential-offers: ${res.status} ${res.text}`);
  return res.body;
}

// --- holder keys -----------------------------------------------------------------

const privateKeys = new Map(); // public JWK x → private CryptoKey

// newHolder makes a P-256 holder key named as the issuer's configuration
// wants it (binding methods of the metadata): did:jwk, did:key or a jwk.
export async function newHolder(bindingMethods = []) {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  privateKeys.set(jwk.x, privateKey);
  const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  if (bindingMethods.includes('did:jwk')) {
    const did = `did:jwk:${Buffer.from(JSON.stringify(publicJwk)).toString('base64url')}`;
    return { did, publicJwk, signer: { method: 'did', didUrl: `${did}#0`, alg: 'ES256' } };
  }
  if (bindingMethods.includes('did:key')) {
    const { publicKeyMultibase } = await (await EcdsaMultikey.fromJwk({ jwk: publicJwk })).export({ publicKey: true });
    const did = `did:key:${publicKeyMultibase}`;
    didKeys.set(did, publicJwk);
    return { did, publicJwk, signer: { method: 'did', didUrl: `${did}#${publicKeyMultibase}`, alg: 'ES256' } };
  }
  return { publicJwk, signer: { method: 'jwk', alg: 'ES256', publicJwk } };
}

const didKeys = new Map(); // did:key → public JWK

function signerJwk(signer) {
  if (signer.method === 'jwk') return signer.publicJwk;
  const did = signer.didUrl.split('#')[0];
  if (did.startsWith('did:jwk:')) return b64json(did.slice(8));
  if (didKeys.has(did)) return didKeys.get(did);
  throw new Error(`test wallet cannot sign for ${signer.method} ${signer.didUrl ?? ''}`);
}

// --- the openid4vci client -----------------------------------------------------------

export const client = new Openid4vciClient({
  callbacks: {
    fetch: (...args) => fetch(...args),
    hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: (n) => new Uint8Array(randomBytes(n)),
    clientAuthentication: clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      const publicJwk = signerJwk(signer);
      const key = privateKeys.get(publicJwk.x);
      assert.ok(key, 'signJwt: unknown key');
      const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader(header).sign(key);
      return { jwt, signerJwk: publicJwk };
    },
  },
});

// issue runs the pre-authorized code flow (with DPoP) for one credential of
// configurationId for the resident and returns the credential, the holder
// and the configuration's metadata. binding picks the holder key's binding
// method among those the configuration supports.
export async function issue(configurationId, { binding } = {}) {
  const offer = await createOffer(configurationId);
  const credentialOffer = await client.resolveCredentialOffer(offer.offer_url);
  assert.deepEqual(credentialOffer.credential_configuration_ids, [configurationId]);
  assert.ok(credentialOffer.grants?.[preAuthorizedCodeGrantIdentifier], 'offer without a pre-authorized code');
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId];
  assert.ok(configuration, `${configurationId} is not in the issuer metadata`);
  assert.ok(issuerMetadata.knownCredentialConfigurations[configurationId], `${configurationId} not usable by the client`);

  const dpopKey = await newHolder();
  const dpop = { signer: { method: 'jwk', alg: 'ES256', publicJwk: dpopKey.publicJwk } };
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, dpop,
  });
  const supported = configuration.cryptographic_binding_methods_supported ?? [];
  if (binding) assert.ok(supported.includes(binding), `${configurationId} does not support binding by ${binding}: ${supported}`);
  const holder = await newHolder(binding ? [binding] : supported);
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt: proof } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, signer: holder.signer, nonce, issuedAt: new Date(),
  });
  const { credentialResponse } = await client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId: configurationId, accessToken: accessTokenResponse.access_token,
    proofs: { jwt: [proof] }, dpop,
  });
  assert.equal(credentialResponse.credentials?.length, 1, 'want one credential');
  return { credential: credentialResponse.credentials[0].credential, holder, configuration, issuerMetadata };
}
