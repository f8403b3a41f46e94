// Cross-checks Sanad's W3C Bitstring Status List code with Digital Bazaar's
// @digitalbazaar/vc-bitstring-status-list. The Go tests read what this
// writes and do not need node.
//
// Run after `go test ./credential/statuslist -run Interop -update` (which
// writes go_list.json and go_credential.json; the test fails until this
// script has run), with the packages of interop/ installed:
//
//   node credential/statuslist/testdata/gen.mjs
//
// Writes, next to this file:
//   digitalbazaar_list.json  a list digitalbazaar encoded with known bits set,
//                            and its unsigned VCDM 2.0 and 1.1 list credentials
//   go_list_node.json        the bits digitalbazaar reads from go_list.json
//   go_credential_node.json  checkStatus results for go_credential.json's
//                            entries against Go's list credentials
import {createRequire} from 'node:module';
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const require = createRequire(join(root, 'interop', 'package.json'));
const bsl = await import(
  require.resolve('@digitalbazaar/vc-bitstring-status-list'));
const bslVersion = JSON.parse(readFileSync(join(root, 'interop', 'node_modules',
  '@digitalbazaar', 'vc-bitstring-status-list', 'package.json'))).version;
const generator = `@digitalbazaar/vc-bitstring-status-list ${bslVersion}`;

const read = name => JSON.parse(readFileSync(join(here, name), 'utf8'));
const write = (name, value) =>
  writeFileSync(join(here, name), JSON.stringify(value, null, 2) + '\n');

function setBits(list) {
  const set = [];
  for(let i = 0; i < list.length; i++) {
    if(list.getStatus(i)) {
      set.push(i);
    }
  }
  return set;
}

// 1. A list encoded by digitalbazaar, with bits at the edges of bytes and
// of the list, and a deterministic scatter.
{
  const length = 131072;
  const list = await bsl.createList({length});
  const want = new Set([0, 1, 7, 8, 15, 16, 1000, 65535, 65536, 131064,
    131071]);
  let x = 12345;
  for(let i = 0; i < 40; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    want.add((x >> 8) % length);
  }
  const set = [...want].sort((a, b) => a - b);
  for(const i of set) {
    list.setStatus(i, true);
  }
  const encodedList = await list.encode();
  const id = 'https://example.com/status/1';
  const credentialV2 = await bsl.createCredential(
    {id, list, statusPurpose: 'revocation'});
  credentialV2.issuer = 'did:example:issuer';
  const credentialV1 = await bsl.createCredential(
    {id, list, statusPurpose: 'suspension', context: bsl.VC_BSL_VC_V1_CONTEXT});
  credentialV1.issuer = 'did:example:issuer';
  credentialV1.issuanceDate = '2025-01-01T00:00:00Z';
  write('digitalbazaar_list.json',
    {generator, length, set, encodedList, credentialV2, credentialV1});
}

// 2. Go's encoding, decoded by digitalbazaar.
{
  const go = read('go_list.json');
  const list = await bsl.decodeList({encodedList: go.encodedList});
  write('go_list_node.json', {generator, length: list.length, set: setBits(list)});
}

// 3. Go's entries checked by digitalbazaar against Go's list credentials
// (proofs are not checked: the lists are unsigned here).
{
  const go = read('go_credential.json');
  const documentLoader = async url => {
    if(!(url in go.lists)) {
      throw new Error(`unknown document ${url}`);
    }
    return {contextUrl: null, documentUrl: url, document: go.lists[url]};
  };
  const results = [];
  for(const entry of go.credential.credentialStatus) {
    const credential = {...go.credential, credentialStatus: entry};
    const r = await bsl.checkStatus({
      credential, documentLoader,
      verifyBitstringStatusListCredential: false,
      verifyMatchingIssuers: true
    });
    results.push({
      id: entry.id,
      verified: r.verified,
      status: r.verified ? r.results[0].status : null,
      error: r.error ? String(r.error.message) : null
    });
  }
  write('go_credential_node.json', {generator, results});
}
