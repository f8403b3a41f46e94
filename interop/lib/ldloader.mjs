// An offline JSON-LD document loader for digitalbazaar's libraries: it
// serves Sanad's bundled contexts (the files in credential/jsonld/contexts,
// keyed by the URLs credential/jsonld/jsonld.go registers them under), the
// credential templates' own contexts, DID documents and their verification
// methods, and whatever documents a test adds (status list credentials it
// fetched). Any other URL throws: jsonld never reaches the network.
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const jsonldDir = join(repoDir, 'credential', 'jsonld');
const templatesDir = join(repoDir, 'templates');

export const DID_V1 = 'https://www.w3.org/ns/did/v1';
export const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

const readJSON = (file) => JSON.parse(readFileSync(file, 'utf8'));

// bundledContexts reads the URL → file map from credential/jsonld/jsonld.go
// (the Go constants and the bundledFiles map) and returns URL → document.
// Reading the Go source keeps this loader and Sanad's on the same files.
export function bundledContexts() {
  const src = readFileSync(join(jsonldDir, 'jsonld.go'), 'utf8');
  const urls = new Map();
  for (const [, name, url] of src.matchAll(/^\s*(\w+)\s*=\s*"(https?:\/\/[^"]+)"/gm)) urls.set(name, url);
  const block = src.match(/bundledFiles\s*=\s*map\[string\]string\{([^}]*)\}/);
  if (!block) throw new Error('jsonld.go: no bundledFiles map');
  const docs = new Map();
  for (const [, name, file] of block[1].matchAll(/^\s*(\w+)\s*:\s*"([^"]+)"/gm)) {
    const url = urls.get(name);
    if (!url) throw new Error(`jsonld.go: bundledFiles names ${name}, which is not a URL constant`);
    docs.set(url, readJSON(join(jsonldDir, file)));
  }
  if (docs.size < 8) throw new Error(`jsonld.go: read only ${docs.size} bundled contexts`);
  return docs;
}

// templateContextFiles lists the templates' own context files: for each
// template folder (its name is the configuration id) every *.jsonld file,
// which the issuer serves at templateContextURL.
export function templateContextFiles() {
  const files = [];
  for (const d of readdirSync(templatesDir, { withFileTypes: true })) {
    if (!d.isDirectory() || /^[._]/.test(d.name)) continue;
    for (const f of readdirSync(join(templatesDir, d.name))) {
      if (f.endsWith('.jsonld')) files.push({ id: d.name, name: f, file: join(templatesDir, d.name, f) });
    }
  }
  return files;
}

// templateContextURL is where the issuer at base serves context file name
// of configuration id (issuer.ContextURL).
export const templateContextURL = (base, id, name = 'context.jsonld') =>
  `${base}/issuer/contexts/${encodeURIComponent(id)}/${encodeURIComponent(name)}`;

// templateContexts maps the URLs at which the issuer at base publishes the
// templates' contexts to the repository's files.
export function templateContexts(base) {
  const docs = new Map();
  for (const { id, name, file } of templateContextFiles()) docs.set(templateContextURL(base, id, name), readJSON(file));
  return docs;
}

// Loader is the documentLoader with its documents. documentLoader is a
// bound function, to pass as is; requested records each URL asked for.
export class Loader {
  constructor(docs = new Map()) {
    this.docs = new Map(docs);
    this.requested = [];
    this.documentLoader = this.load.bind(this);
  }

  add(url, doc) {
    this.docs.set(url, doc);
    return this;
  }

  // addDID registers a DID document under its id and each of its
  // verification methods under its absolute DID URL, as a document with the
  // DID document's @context (what did-io's resolvers return for a DID URL).
  addDID(didDoc) {
    const { id } = didDoc;
    if (typeof id !== 'string' || !id.startsWith('did:')) throw new Error(`DID document id ${id}`);
    this.docs.set(id, didDoc);
    for (const vm of didDoc.verificationMethod ?? []) {
      const vmId = vm.id.startsWith('#') ? id + vm.id : vm.id;
      this.docs.set(vmId, { '@context': didDoc['@context'], ...vm, id: vmId });
    }
    return this;
  }

  async load(url) {
    this.requested.push(url);
    const doc = this.docs.get(url);
    if (doc === undefined) throw new Error(`offline document loader: ${url} is not known`);
    return { contextUrl: null, documentUrl: url, document: structuredClone(doc) };
  }
}

// defaultLoader has the bundled contexts and, given the server's base URL,
// the templates' contexts.
export function defaultLoader(base) {
  const l = new Loader(bundledContexts());
  if (base) for (const [u, d] of templateContexts(base)) l.add(u, d);
  return l;
}

// didKeyDocument returns the DID document of a did:key of a Multikey
// public key (multibase z…), as did:key resolution defines it.
export function didKeyDocument(publicKeyMultibase) {
  const did = `did:key:${publicKeyMultibase}`;
  const vm = `${did}#${publicKeyMultibase}`;
  return {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [{ id: vm, type: 'Multikey', controller: did, publicKeyMultibase }],
    authentication: [vm],
    assertionMethod: [vm],
    capabilityInvocation: [vm],
    capabilityDelegation: [vm],
  };
}
