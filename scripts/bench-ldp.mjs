// bench-ldp measures digitalbazaar's ldp_vc issue and verify
// (@digitalbazaar/vc issue/verifyCredential) on the credentials Sanad's
// Go benchmarks use (credential/ldp BenchmarkSign, BenchmarkVerify), in one
// process, so the two can be compared per core.
//
//   node scripts/bench-ldp.mjs [-seconds N] bench-credential-v2.json bench-credential-v1.json
//
// The VCDM 2.0 credential is signed with DataIntegrityProof eddsa-rdfc-2022
// and ecdsa-rdfc-2019 (P-256), the VCDM 1.1 one with Ed25519Signature2020;
// keys are in memory under a did:web DID whose document the loader serves.
// Every context comes from the repository (Sanad's bundled contexts and the
// benchmark template context): nothing is fetched. Credential status is not
// checked (neither does ldp.Verify). Output: ops/s, wall ms/op and CPU ms/op
// (process.cpuUsage, all threads) per suite and operation.
//
// The libraries are those of interop/ (npm ci there first).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url);
const require = createRequire(new URL('interop/package.json', root));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const vc = await load('@digitalbazaar/vc');
const { DataIntegrityProof } = await load('@digitalbazaar/data-integrity');
const { cryptosuite: eddsaRdfc2022 } = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const { cryptosuite: ecdsaRdfc2019 } = await load('@digitalbazaar/ecdsa-rdfc-2019-cryptosuite');
const { Ed25519Signature2020 } = await load('@digitalbazaar/ed25519-signature-2020');
const { Ed25519VerificationKey2020 } = await load('@digitalbazaar/ed25519-verification-key-2020');
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
const EcdsaMultikey = await load('@digitalbazaar/ecdsa-multikey');

// Arguments.
let seconds = 5;
const files = [];
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '-seconds' || a === '--seconds') {
    seconds = Number(process.argv[++i]);
  } else {
    files.push(a);
  }
}
if (files.length !== 2 || !(seconds > 0)) {
  console.error('usage: node scripts/bench-ldp.mjs [-seconds N] bench-credential-v2.json bench-credential-v1.json');
  process.exit(2);
}
const readJSON = (path) => JSON.parse(readFileSync(path, 'utf8'));
const [credentialV2, credentialV1] = files.map((f) => readJSON(resolve(f)));

// Contexts: Sanad's bundled ones (credential/jsonld/jsonld.go) and the
// benchmark template's.
const contextFiles = {
  'https://www.w3.org/2018/credentials/v1': 'credential/jsonld/contexts/credentials-v1.jsonld',
  'https://www.w3.org/ns/credentials/v2': 'credential/jsonld/contexts/credentials-v2.jsonld',
  'https://w3id.org/security/data-integrity/v1': 'credential/jsonld/contexts/data-integrity-v1.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'credential/jsonld/contexts/data-integrity-v2.jsonld',
  'https://w3id.org/security/suites/ed25519-2020/v1': 'credential/jsonld/contexts/ed25519-signature-2020-v1.jsonld',
  'https://w3id.org/security/multikey/v1': 'credential/jsonld/contexts/multikey-v1.jsonld',
  'https://www.w3.org/ns/credentials/status/v1': 'credential/jsonld/contexts/vc-bitstring-status-list-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'credential/jsonld/contexts/did-v1.jsonld',
  'https://sanad.id/ns/national-id/v1': 'credential/ldp/testdata/national-id-context.jsonld',
};
const documents = new Map();
for (const [url, file] of Object.entries(contextFiles)) {
  documents.set(url, readJSON(new URL(file, root)));
}

// The issuer: a did:web DID with one key per suite.
const issuer = credentialV2.issuer?.id ?? credentialV2.issuer;
const edKey = await Ed25519Multikey.generate({ id: `${issuer}#ed`, controller: issuer });
const p256Key = await EcdsaMultikey.generate({ curve: 'P-256', id: `${issuer}#p256`, controller: issuer });
const ed2020Key = await Ed25519VerificationKey2020.generate({ id: `${issuer}#ed2020`, controller: issuer });
const methods = [
  await edKey.export({ publicKey: true, includeContext: true }),
  await p256Key.export({ publicKey: true, includeContext: true }),
  { '@context': 'https://w3id.org/security/suites/ed25519-2020/v1', ...ed2020Key.export({ publicKey: true }) },
];
const didDocument = {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1', 'https://w3id.org/security/suites/ed25519-2020/v1'],
  id: issuer,
  verificationMethod: methods.map(({ '@context': _, ...m }) => m),
  assertionMethod: methods.map((m) => m.id),
};
documents.set(issuer, didDocument);
for (const m of methods) {
  documents.set(m.id, m);
}

const documentLoader = async (url) => {
  const document = documents.get(url);
  if (!document) {
    throw new Error(`bench-ldp: no offline document for ${url}`);
  }
  return { contextUrl: null, documentUrl: url, document: structuredClone(document) };
};

const suites = [
  {
    name: 'eddsa-rdfc-2022',
    credential: credentialV2,
    signer: () => new DataIntegrityProof({ signer: edKey.signer(), cryptosuite: eddsaRdfc2022 }),
    verifier: () => new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
  },
  {
    name: 'ecdsa-rdfc-2019-P256',
    credential: credentialV2,
    signer: () => new DataIntegrityProof({ signer: p256Key.signer(), cryptosuite: ecdsaRdfc2019 }),
    verifier: () => new DataIntegrityProof({ cryptosuite: ecdsaRdfc2019 }),
  },
  {
    name: 'Ed25519Signature2020',
    credential: credentialV1,
    signer: () => new Ed25519Signature2020({ key: ed2020Key }),
    verifier: () => new Ed25519Signature2020(),
  },
];

// Status is not checked, as ldp.Verify does not check it.
const checkStatus = async () => ({ verified: true });

async function issue(s) {
  return vc.issue({ credential: structuredClone(s.credential), suite: s.signer(), documentLoader });
}

async function verify(s, credential) {
  const result = await vc.verifyCredential({ credential, suite: s.verifier(), documentLoader, checkStatus });
  if (!result.verified) {
    const err = result.error?.errors?.[0] ?? result.error ?? result;
    throw new Error(`${s.name}: verification failed: ${err.message ?? JSON.stringify(err)}`);
  }
}

// measure runs op for about `seconds` (after a warm-up) and reports it.
async function measure(label, op) {
  for (let i = 0; i < 20; i++) {
    await op();
  }
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  let t = t0;
  while (t < end) {
    await op();
    n++;
    t = process.hrtime.bigint();
  }
  const wallMs = Number(t - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1e3;
  const row = {
    op: label,
    n,
    'ops/s': Math.round((n * 1000) / wallMs),
    'ms/op': +(wallMs / n).toFixed(3),
    'cpu ms/op': +(cpuMs / n).toFixed(3),
  };
  console.log(`${row.op.padEnd(32)} ${String(row['ops/s']).padStart(7)} ops/s ${row['ms/op'].toFixed(3).padStart(8)} ms/op ${row['cpu ms/op'].toFixed(3).padStart(8)} cpu ms/op  (n=${n})`);
  return row;
}

console.log(`digitalbazaar @digitalbazaar/vc on ${files.join(', ')}; node ${process.version}; ${seconds}s per row`);
for (const s of suites) {
  const signed = await issue(s);
  await verify(s, signed); // the signed credential verifies before it is timed
  await measure(`issue ${s.name}`, () => issue(s));
  await measure(`verify ${s.name}`, () => verify(s, signed));
}
