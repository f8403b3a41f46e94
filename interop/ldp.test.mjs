// Linked-data credentials across implementations. digitalbazaar's
// `@digitalbazaar/vc` verifies the ldp_vc credentials a running Sanad
// issues through OpenID4VCI (VCDM 2.0 with DataIntegrityProof
// eddsa-rdfc-2022, VCDM 1.1 with Ed25519Signature2020) and reads their
// Bitstring Status List entries after an admin revokes or suspends them;
// `sanad credential verify` verifies credentials that digitalbazaar signed
// (eddsa-rdfc-2022, ecdsa-rdfc-2019, Ed25519Signature2020).
//
// Every JSON-LD document comes from an offline loader (lib/ldloader.mjs):
// Sanad's bundled contexts, the templates' contexts from the repository,
// the issuer's DID document as the server publishes it, and status list
// credentials fetched by the test. jsonld never reaches the network.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
import { Ed25519VerificationKey2020 } from '@digitalbazaar/ed25519-verification-key-2020';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import { checkStatus, decodeList, statusTypeMatches } from '@digitalbazaar/vc-bitstring-status-list';
import {
  MULTIKEY_V1, bundledContexts, defaultLoader, didKeyDocument, templateContextFiles, templateContextURL,
} from './lib/ldloader.mjs';
import { admin, base, getJSON, issue, resident } from './lib/wallet.mjs';

const sanadBin = process.env.INTEROP_SANAD_BIN;

const CREDENTIALS_V1 = 'https://www.w3.org/2018/credentials/v1';
const CREDENTIALS_V2 = 'https://www.w3.org/ns/credentials/v2';
const ED25519_2020_V1 = 'https://w3id.org/security/suites/ed25519-2020/v1';

const ldp2022 = 'national-id-ldp'; // VCDM 2.0, DataIntegrityProof eddsa-rdfc-2022
const ldp2020 = 'national-id-ldp-2020'; // VCDM 1.1, Ed25519Signature2020

const eddsaSuite = () => new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
// errorOf is the reason of a failed verification, for messages.
const errorOf = (r) => r.error?.errors?.[0]?.message ?? r.error?.message ?? JSON.stringify(r);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// fetchList fetches a status list credential as a verifier would, asking
// for the media type of a credential with an embedded proof.
async function fetchList(url) {
  const res = await fetch(url, { headers: { Accept: 'application/vc' } });
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/vc\b/, `GET ${url}: content type`);
  assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/, `GET ${url}: no max-age`);
  return res.json();
}

test("Sanad's bundled JSON-LD contexts are the ones digitalbazaar ships", () => {
  // The loaders below give digitalbazaar Sanad's files; this is what makes
  // that a fair test: each is the published context, term for term.
  const shipped = {
    'https://www.w3.org/2018/credentials/v1': '@digitalbazaar/credentials-context/contexts/v1.jsonld',
    'https://www.w3.org/ns/credentials/v2': '@digitalbazaar/credentials-context/contexts/v2.jsonld',
    'https://w3id.org/security/data-integrity/v1': '@digitalbazaar/data-integrity-context/contexts/data-integrity-v1.jsonld',
    'https://w3id.org/security/data-integrity/v2': '@digitalbazaar/data-integrity-context/contexts/data-integrity-v2.jsonld',
    'https://w3id.org/security/multikey/v1': '@digitalbazaar/multikey-context/contexts/multikey-v1.jsonld',
    'https://w3id.org/security/suites/ed25519-2020/v1': 'ed25519-signature-2020-context/contexts/ed25519-signature-2020-v1.jsonld',
    'https://www.w3.org/ns/credentials/status/v1': '@digitalbazaar/vc-bitstring-status-list-context/contexts/vc-bitstring-status-list-v1.jsonld',
    'https://www.w3.org/ns/did/v1': 'did-context/contexts/did-v1.jsonld',
  };
  const bundled = bundledContexts();
  for (const [url, file] of Object.entries(shipped)) {
    assert.ok(bundled.has(url), `${url} is not bundled`);
    assert.deepEqual(bundled.get(url), JSON.parse(readFileSync(new URL(`node_modules/${file}`, import.meta.url), 'utf8')), `bundled ${url} differs from ${file}`);
  }
});

// --- Sanad issues, digitalbazaar verifies ---------------------------------------------

describe('digitalbazaar verifies what Sanad issues', () => {
  let didDoc; // the issuer's DID document, as /.well-known/did.json publishes it

  before(async () => {
    didDoc = await getJSON(`${base}/.well-known/did.json`);
  });

  // loaderFor returns a fresh offline loader with the issuer's DID and the
  // status lists of credentials fetched now.
  async function loaderFor(...credentials) {
    const loader = defaultLoader(base).addDID(didDoc);
    for (const c of credentials) {
      for (const e of [c.credentialStatus ?? []].flat()) {
        if (e.type !== 'BitstringStatusListEntry' || loader.docs.has(e.statusListCredential)) continue;
        assert.ok(e.statusListCredential.startsWith(`${base}/issuer/status/`), `status list ${e.statusListCredential} is not the issuer's`);
        loader.add(e.statusListCredential, await fetchList(e.statusListCredential));
      }
    }
    return loader;
  }

  // The status lists are signed eddsa-rdfc-2022 whatever the credential's suite.
  const statusChecker = (opts) => checkStatus({ ...opts, suite: eddsaSuite() });
  const skipStatus = async () => ({ verified: true }); // status is checked after the proof: for tampered copies only

  const issuerDID = () => `did:web:${new URL(base).host.replace(':', '%3A')}`;

  test('the DID document names the issuer and lists its keys as assertion methods', () => {
    assert.equal(didDoc.id, issuerDID());
    const contexts = [didDoc['@context']].flat();
    assert.equal(contexts[0], 'https://www.w3.org/ns/did/v1');
    const methods = didDoc.verificationMethod ?? [];
    assert.ok(methods.some((m) => m.type === 'Multikey'), 'no Multikey method');
    for (const m of methods) {
      assert.ok(m.id.startsWith(`${didDoc.id}#`), `method id ${m.id}`);
      assert.equal(m.controller, didDoc.id, `controller of ${m.id}`);
      assert.ok(['Multikey', 'Ed25519VerificationKey2020'].includes(m.type), `type of ${m.id}: ${m.type}`);
      assert.ok(contexts.includes(m.type === 'Multikey' ? MULTIKEY_V1 : ED25519_2020_V1), `@context does not define ${m.type}`);
      assert.match(m.publicKeyMultibase, /^z/);
      for (const secret of ['secretKeyMultibase', 'privateKeyMultibase', 'privateKeyJwk']) assert.equal(m[secret], undefined, `${m.id} has ${secret}`);
    }
    assert.ok((didDoc.assertionMethod ?? []).length > 0, 'no assertionMethod');
  });

  for (const [configurationId, want] of [
    [ldp2022, { context: CREDENTIALS_V2, proofType: 'DataIntegrityProof', cryptosuite: 'eddsa-rdfc-2022', suite: eddsaSuite, binding: 'did:jwk' }],
    [ldp2020, { context: CREDENTIALS_V1, proofType: 'Ed25519Signature2020', suite: () => new Ed25519Signature2020(), binding: 'did:key' }],
  ]) {
    test(`@digitalbazaar/vc verifies a ${configurationId} credential issued through OpenID4VCI`, async () => {
      const { credential, holder, configuration } = await issue(configurationId, { binding: want.binding });
      assert.equal(configuration.format, 'ldp_vc');
      assert.equal(typeof credential, 'object', 'an ldp_vc credential is a JSON object');
      assert.equal(credential['@context'][0], want.context);
      assert.ok(credential.type.includes('VerifiableCredential'), `type ${credential.type}`);
      assert.equal(typeof credential.issuer === 'object' ? credential.issuer.id : credential.issuer, didDoc.id);
      assert.equal(credential.proof.type, want.proofType);
      if (want.cryptosuite) assert.equal(credential.proof.cryptosuite, want.cryptosuite);
      assert.equal(credential.proof.proofPurpose, 'assertionMethod');
      assert.ok(didDoc.assertionMethod.includes(credential.proof.verificationMethod), 'proof key is not an assertion method');
      assert.equal(credential.credentialSubject.id, holder.did, `credentialSubject.id is not the holder's ${want.binding}`);

      // The template's own contexts are the repository's files, as served.
      const own = templateContextFiles().filter((f) => f.id === configurationId);
      assert.ok(own.length > 0, `templates/${configurationId} has no .jsonld context`);
      for (const { name, file } of own) {
        const url = templateContextURL(base, configurationId, name);
        assert.ok(credential['@context'].includes(url), `@context does not name ${url}`);
        assert.deepEqual(await getJSON(url, /application\/(ld\+)?json/), JSON.parse(readFileSync(file, 'utf8')), `${url} is not templates/${configurationId}/${name}`);
      }

      // The resident's claims, every language of the identity data.
      const subject = credential.credentialSubject;
      assert.ok(subject.fullName?.some((l) => l.language === 'eng' && l.value === resident.fullName), `fullName ${JSON.stringify(subject.fullName)}`);
      assert.equal(subject.dateOfBirth, resident.dateOfBirth);

      const loader = await loaderFor(credential);
      const result = await vc.verifyCredential({
        credential, suite: want.suite(), documentLoader: loader.documentLoader, checkStatus: statusChecker,
      });
      assert.equal(result.verified, true, `not verified: ${errorOf(result)}`);
      assert.ok(loader.requested.includes(credential.proof.verificationMethod), 'the verification method was not loaded');
      for (const { name } of own) assert.ok(loader.requested.includes(templateContextURL(base, configurationId, name)), `${name} was not loaded`);

      // Tampered copies fail, each for its reason: a changed claim, another
      // subject, an added claim the context defines (the signature), an
      // undefined term (safe mode), a claim given another meaning (the
      // template's terms are protected). Reordered members verify.
      const verify = async (c) => {
        const r = await vc.verifyCredential({ credential: c, suite: want.suite(), documentLoader: loader.documentLoader, checkStatus: skipStatus });
        return r.verified ? 'verified' : errorOf(r);
      };
      const tampered = (edit) => { const c = structuredClone(credential); edit(c); return c; };
      for (const [what, edit, reason] of [
        ['changed fullName', (c) => { c.credentialSubject.fullName.find((l) => l.language === 'eng').value = 'Mallory Mensah'; }, /Invalid signature/],
        ['another subject', (c) => { c.credentialSubject.id = 'did:example:mallory'; }, /Invalid signature/],
        ['added defined claim', (c) => { c.credentialSubject.region = [{ language: 'eng', value: 'Ashanti' }]; }, /Invalid signature/],
        ['injected undefined term', (c) => { c.credentialSubject.nationality = 'Atlantis'; }, /Safe mode validation error/],
        ['redefined term', (c) => { c['@context'] = [...c['@context'], { dateOfBirth: 'https://evil.example/vocab#expiryDate' }]; }, /protected term/],
        ['reordered members', (c) => {
          for (const k of Object.keys(c).reverse()) { const v = c[k]; delete c[k]; c[k] = v; }
          c.credentialSubject = Object.fromEntries(Object.entries(c.credentialSubject).reverse());
        }, /^verified$/],
      ]) {
        assert.match(await verify(tampered(edit)), reason, what);
      }

      // Revocation and suspension entries, both Bitstring Status List, read
      // by the status check of the verification above.
      const entries = [credential.credentialStatus ?? []].flat();
      assert.deepEqual(entries.map((e) => e.statusPurpose).sort(), ['revocation', 'suspension'], 'credentialStatus');
      for (const e of entries) assert.equal(e.type, 'BitstringStatusListEntry');
      assert.equal(statusTypeMatches({ credential }), true, 'digitalbazaar does not see a Bitstring Status List entry');
      assert.equal(result.statusResult?.verified, true, 'status not checked');
      assert.deepEqual(result.statusResult.results.map((r) => [r.credentialStatus.statusPurpose, r.status]).sort(),
        [['revocation', false], ['suspension', false]], 'a fresh credential is neither revoked nor suspended');
      for (const e of entries) assert.ok(loader.requested.includes(e.statusListCredential), `${e.statusListCredential} was not loaded`);
    });
  }

  test('@digitalbazaar/vc-bitstring-status-list reads revocation and suspension set through the admin API', async () => {
    const { credential: revoked } = await issue(ldp2022);
    const { credential: suspended } = await issue(ldp2022);
    for (const c of [revoked, suspended]) {
      assert.deepEqual([c.credentialStatus ?? []].flat().map((e) => e.statusPurpose).sort(), ['revocation', 'suspension'], 'credentialStatus');
    }
    const entry = (c, purpose) => [c.credentialStatus].flat().find((e) => e.statusPurpose === purpose);
    const bitOf = async (c, purpose) => {
      const e = entry(c, purpose);
      const list = await fetchList(e.statusListCredential);
      return (await decodeList({ encodedList: list.credentialSubject.encodedList })).getStatus(Number(e.statusListIndex));
    };
    // waitFor polls the published list until the entry has the want
    // status: a change is published within the list's TTL (5 s by default).
    const waitFor = async (c, purpose, want) => {
      const deadline = Date.now() + 10_000;
      while (await bitOf(c, purpose) !== want) {
        assert.ok(Date.now() < deadline, `${purpose} entry of ${c.id} is not ${want} in the published list after 10 s`);
        await sleep(200);
      }
    };
    for (const c of [revoked, suspended]) {
      for (const purpose of ['revocation', 'suspension']) assert.equal(await bitOf(c, purpose), false, `${purpose} bit of a new credential`);
    }

    const ids = await Promise.all([revoked, suspended].map(credentialID));
    const [r1, r2] = await Promise.all([
      admin('POST', `/v1/credentials/${encodeURIComponent(ids[0])}/revoke`),
      admin('POST', `/v1/credentials/${encodeURIComponent(ids[1])}/suspend`),
    ]);
    assert.ok(r1.status >= 200 && r1.status < 300, `revoke: ${r1.status} ${r1.text}`);
    assert.ok(r2.status >= 200 && r2.status < 300, `suspend: ${r2.status} ${r2.text}`);
    await Promise.all([waitFor(revoked, 'revocation', true), waitFor(suspended, 'suspension', true)]);

    const statuses = async (c) => {
      const loader = await loaderFor(c);
      const res = await checkStatus({ credential: c, documentLoader: loader.documentLoader, suite: eddsaSuite() });
      assert.equal(res.verified, true, `checkStatus: ${res.error?.message}`);
      return Object.fromEntries(res.results.map((r) => [r.credentialStatus.statusPurpose, r.status]));
    };
    assert.deepEqual(await statuses(revoked), { revocation: true, suspension: false }, 'revoked credential');
    assert.deepEqual(await statuses(suspended), { revocation: false, suspension: true }, 'suspended credential');

    // The admin sees the change in the ledger.
    const listed = await admin('GET', `/v1/credentials?configuration_id=${ldp2022}&status=REVOKED`);
    assert.equal(listed.status, 200, `list credentials: ${listed.text}`);
    const revokedIDs = listed.body.credentials.map((c) => c.id);
    assert.ok(revokedIDs.includes(ids[0]), 'revoked credential not listed as revoked');
    assert.ok(!revokedIDs.includes(ids[1]), 'suspended credential listed as revoked');
    for (const c of listed.body.credentials) assert.equal(c.status, 'REVOKED');

    // Reinstated, the suspended credential reads valid again.
    const r3 = await admin('POST', `/v1/credentials/${encodeURIComponent(ids[1])}/reinstate`);
    assert.ok(r3.status >= 200 && r3.status < 300, `reinstate: ${r3.status} ${r3.text}`);
    await waitFor(suspended, 'suspension', false);
    assert.deepEqual(await statuses(suspended), { revocation: false, suspension: false }, 'reinstated credential');
    // Revocation is final: a revoked credential is not reinstated.
    const r4 = await admin('POST', `/v1/credentials/${encodeURIComponent(ids[0])}/reinstate`);
    assert.ok(r4.status >= 400 && r4.status < 500, `reinstate a revoked credential: ${r4.status} ${r4.text}`);
    assert.deepEqual(await statuses(revoked), { revocation: true, suspension: false }, 'revoked credential after reinstate');

    // The list credential itself: VCDM 2.0, signed eddsa-rdfc-2022 by the
    // issuer's DID; a flipped bit breaks its proof.
    const listURL = entry(revoked, 'revocation').statusListCredential;
    const loader = await loaderFor(revoked);
    const list = (await loader.documentLoader(listURL)).document;
    assert.equal(list['@context'][0], CREDENTIALS_V2);
    assert.ok(list.type.includes('BitstringStatusListCredential'));
    assert.equal(list.credentialSubject.type, 'BitstringStatusList');
    assert.equal(list.credentialSubject.statusPurpose, 'revocation');
    assert.equal(list.issuer?.id ?? list.issuer, didDoc.id);
    assert.equal(list.proof.cryptosuite, 'eddsa-rdfc-2022');
    const listResult = await vc.verifyCredential({ credential: list, suite: eddsaSuite(), documentLoader: loader.documentLoader });
    assert.equal(listResult.verified, true, `list not verified: ${errorOf(listResult)}`);
    const bits = await decodeList({ encodedList: list.credentialSubject.encodedList });
    bits.setStatus(Number(entry(revoked, 'revocation').statusListIndex), false);
    const forged = { ...structuredClone(list), credentialSubject: { ...list.credentialSubject, encodedList: await bits.encode() } };
    const forgedResult = await vc.verifyCredential({ credential: forged, suite: eddsaSuite(), documentLoader: loader.documentLoader });
    assert.match(forgedResult.verified ? 'verified' : errorOf(forgedResult), /Invalid signature/, 'a list with a cleared bit');
  });

  // credentialID is the ledger id the admin API names an issued credential
  // by: its id, whose ledger entry points at the credential's status entry.
  async function credentialID(credential) {
    const res = await admin('GET', `/v1/credentials/${encodeURIComponent(credential.id)}`);
    assert.equal(res.status, 200, `GET /v1/credentials/${credential.id}: ${res.status} ${res.text}`);
    const entries = [credential.credentialStatus ?? []].flat();
    assert.equal(res.body.configuration_id, ldp2022);
    assert.equal(res.body.revocable, true, 'ledger entry is not revocable');
    assert.deepEqual([...res.body.status_list.urls].sort(), entries.map((e) => e.statusListCredential).sort(), 'ledger and credential name other lists');
    for (const e of entries) assert.equal(Number(e.statusListIndex), res.body.status_list.index, 'ledger and credential disagree on the index');
    return credential.id;
  }
});

// --- digitalbazaar signs, Sanad verifies ------------------------------------------------

describe('Sanad verifies what digitalbazaar signs', () => {
  // A VCDM 1.1 credential needs a context for its claims; credentials/v1 has
  // no @vocab. Sanad gets this one through --context.
  const claimsContextURL = 'https://interop.sanad.invalid/contexts/resident/v1';
  const claimsContext = {
    '@context': {
      '@version': 1.1,
      '@protected': true,
      ResidentCredential: 'https://interop.sanad.invalid/vocab#ResidentCredential',
      fullName: 'https://interop.sanad.invalid/vocab#fullName',
      dateOfBirth: { '@id': 'https://interop.sanad.invalid/vocab#dateOfBirth', '@type': 'http://www.w3.org/2001/XMLSchema#date' },
    },
  };
  const loader = defaultLoader().add(claimsContextURL, claimsContext);
  const signed = {}; // name → { credential, args }
  let dir;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sanad-ldp-interop-'));
    const subject = { id: 'did:example:amina', fullName: 'Amina Diallo', dateOfBirth: '1990-05-14' };
    const validFrom = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const contextArgs = ['--context', `${claimsContextURL}=${join(dir, 'resident-context.jsonld')}`];
    writeFileSync(join(dir, 'resident-context.jsonld'), JSON.stringify(claimsContext));

    const ed = await Ed25519Multikey.generate();
    const edDID = didKeyDocument(ed.publicKeyMultibase);
    const edKey = await Ed25519Multikey.from({ ...await ed.export({ publicKey: true, secretKey: true }), id: edDID.verificationMethod[0].id, controller: edDID.id });
    const p256 = await EcdsaMultikey.generate({ curve: 'P-256' });
    const p256DID = didKeyDocument(p256.publicKeyMultibase);
    const p256Key = await EcdsaMultikey.from({ ...await p256.export({ publicKey: true, secretKey: true }), id: p256DID.verificationMethod[0].id, controller: p256DID.id });
    const ed2020 = await Ed25519VerificationKey2020.generate();
    const ed2020DID = didKeyDocument(ed2020.fingerprint());
    ed2020.id = ed2020DID.verificationMethod[0].id;
    ed2020.controller = ed2020DID.id;
    for (const d of [edDID, p256DID, ed2020DID]) loader.addDID(d);

    const sign = (credential, issuer, suite) => vc.issue({ credential: { ...credential, issuer }, suite, documentLoader: loader.documentLoader });
    // VCDM 2.0 with credentials/v2 only: its terms name and description
    // are the claims (it has no @vocab for others).
    signed['eddsa-rdfc-2022'] = {
      credential: await sign({
        '@context': [CREDENTIALS_V2],
        type: ['VerifiableCredential'],
        credentialSubject: { id: subject.id, name: subject.fullName, description: 'Resident since 2009' },
        validFrom,
      }, edDID.id, new DataIntegrityProof({ signer: edKey.signer(), cryptosuite: eddsaRdfc2022 })),
      claim: 'name',
      args: [],
    };
    // VCDM 2.0 with a claims context of its own.
    signed['ecdsa-rdfc-2019'] = {
      credential: await sign({
        '@context': [CREDENTIALS_V2, claimsContextURL],
        type: ['VerifiableCredential', 'ResidentCredential'],
        credentialSubject: subject,
        validFrom,
      }, p256DID.id, new DataIntegrityProof({ signer: p256Key.signer(), cryptosuite: ecdsaRdfc2019 })),
      claim: 'fullName',
      args: contextArgs,
    };
    // VCDM 1.1, as Inji Verify takes it.
    signed.Ed25519Signature2020 = {
      credential: await sign({
        '@context': [CREDENTIALS_V1, ED25519_2020_V1, claimsContextURL],
        type: ['VerifiableCredential', 'ResidentCredential'],
        credentialSubject: subject,
        issuanceDate: validFrom,
      }, ed2020DID.id, new Ed25519Signature2020({ key: ed2020 })),
      claim: 'fullName',
      args: contextArgs,
    };
  });

  // sanad runs `sanad credential verify --offline --json` on credential,
  // written to a file, and returns the exit status and the report.
  const sanad = (file, credential, args = []) => {
    assert.ok(sanadBin, 'INTEROP_SANAD_BIN is not set');
    const path = join(dir, `${file}.json`);
    writeFileSync(path, JSON.stringify(credential, null, 2));
    const res = spawnSync(sanadBin, ['credential', 'verify', '--offline', '--json', ...args, path], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(res.error, undefined, `sanad: ${res.error}`);
    let report;
    try { report = JSON.parse(res.stdout); } catch { assert.fail(`${file}: exit ${res.status}, no JSON report: ${res.stderr}${res.stdout}`); }
    const check = (name) => report.checks?.find((c) => c.name === name) ?? {};
    return { exit: res.status, report, check, text: `${res.stderr}${res.stdout}` };
  };

  for (const name of ['eddsa-rdfc-2022', 'ecdsa-rdfc-2019', 'Ed25519Signature2020']) {
    test(`sanad credential verify --offline accepts a ${name} credential signed by digitalbazaar and refuses tampered copies`, async () => {
      const { credential, claim, args } = signed[name];
      // digitalbazaar's own verdict first, so a refusal below is Sanad's.
      const suite = name === 'Ed25519Signature2020' ? new Ed25519Signature2020()
        : new DataIntegrityProof({ cryptosuite: name === 'eddsa-rdfc-2022' ? eddsaRdfc2022 : ecdsaRdfc2019 });
      const own = await vc.verifyCredential({ credential, suite, documentLoader: loader.documentLoader });
      assert.equal(own.verified, true, `digitalbazaar does not verify its own credential: ${errorOf(own)}`);

      const ok = sanad(name, credential, args);
      assert.equal(ok.exit, 0, `sanad credential verify exited ${ok.exit}: ${ok.text}`);
      assert.equal(ok.report.status, 'SUCCESS');
      assert.equal(ok.report.format, 'ldp_vc');
      assert.equal(ok.report.issuer, credential.issuer);
      assert.equal(ok.check('signature').status, 'success');
      assert.equal(ok.check('validity').status, 'success');
      assert.equal(ok.report.claims?.[claim], credential.credentialSubject[claim]);

      // Each tampered copy exits 1 with a failed signature check, for its reason.
      const other = Object.entries(signed).find(([n]) => n !== name)[1].credential;
      for (const [what, edit, reason] of [
        ['changed claim', (c) => { c.credentialSubject[claim] = 'Mallory'; }, /invalid signature/i],
        ['another issuer', (c) => { c.issuer = other.issuer; }, /controlled by/],
        ['proof of another credential', (c) => { c.proof = structuredClone(other.proof); }, /./],
        ['injected undefined term', (c) => { c.credentialSubject.nationality = 'Atlantis'; }, /undefined term/i],
      ]) {
        const c = structuredClone(credential);
        edit(c);
        const bad = sanad(`${name}-${what.replaceAll(' ', '-')}`, c, args);
        assert.equal(bad.exit, 1, `${what}: exit ${bad.exit}: ${bad.text}`);
        assert.equal(bad.report.status, 'INVALID', what);
        assert.equal(bad.check('signature').status, 'failure', `${what}: signature check ${JSON.stringify(bad.check('signature'))}`);
        assert.match(bad.check('signature').error ?? '', reason, what);
      }
    });
  }

  test('sanad credential verify refuses a context it was not given, without fetching it', () => {
    const { credential } = signed.Ed25519Signature2020;
    const res = sanad('no-context', credential);
    assert.equal(res.exit, 1, `unknown context: exit ${res.exit}: ${res.text}`);
    assert.equal(res.check('signature').status, 'failure');
    assert.match(res.check('signature').error ?? '', /unknown context/i);
  });

  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
});
