// Checks a ledger inclusion proof in the browser, with none of the platform's code: the entry's hash from its
// fields, the Merkle path up to a root, and that root against the published anchors file (docs/ledger-format.md,
// sections 2, 5 and 8). WebCrypto's SHA-256 does the hashing.
"use strict";

const HEX = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

function unhex(hex) {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a 64-digit hash: ${String(hex).slice(0, 20)}`);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }

// Section 1: canonical JSON of the header array. JSON.stringify writes no whitespace, keeps non-ASCII as
// itself and escapes quotes, backslashes and control characters as Python's json.dumps(ensure_ascii=False) does.
function canonicalHeader(e) {
  return JSON.stringify([e.chain, e.seq, e.kind, e.ref, e.slot, e.prev_hash]);
}

// Section 2: hash = SHA-256( UTF-8(header) || 0x0A || UTF-8(body) ), the body as stored (never re-serialised).
async function entryHash(e) {
  const utf8 = new TextEncoder();
  return HEX(await sha256(concat(utf8.encode(canonicalHeader(e)), new Uint8Array([10]), utf8.encode(e.body))));
}

// Section 5: RFC 6962 leaves and nodes; the left subtree holds the largest power of two below n.
async function leaf(hashHex) { return sha256(concat(new Uint8Array([0]), unhex(hashHex))); }
async function node(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }
function split(n) { let k = 1; while (k * 2 < n) k *= 2; return k; }

async function rootFromPath(hashHex, index, size, path) {
  async function up(i, n, rest) {
    if (n === 1) return rest.length ? null : leaf(hashHex);
    if (!rest.length) return null;
    const k = split(n);
    const sibling = unhex(rest[rest.length - 1]);
    const below = i < k ? await up(i, k, rest.slice(0, -1)) : await up(i - k, n - k, rest.slice(0, -1));
    if (below === null) return null;
    return i < k ? node(below, sibling) : node(sibling, below);
  }
  if (!(Number.isInteger(index) && Number.isInteger(size) && index >= 0 && index < size)) return null;
  const root = await up(index, size, [...path]);
  return root === null ? null : HEX(root);
}

function parseAnchors(text) {
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// The published anchor for the proof's tree: same chain, same slot, the same number of leaves.
function publishedAnchor(anchors, entry, size) {
  const slot = new Date(entry.slot).getTime();
  return anchors.find((a) => a.chain === entry.chain && a.entries === size && new Date(a.slot).getTime() === slot);
}

// {state: "verified" | "failed", reason, anchor}: verified only when the entry's hash recomputes, the path
// leads to a root, and that root is the one published for the slot (not merely the one in the answer).
async function checkProof(proof, anchors) {
  try {
    const e = proof.entry;
    if (await entryHash(e) !== e.hash) return { state: "failed", reason: "entry hash does not recompute" };
    const root = await rootFromPath(e.hash, proof.index, proof.size, proof.proof);
    if (root === null) return { state: "failed", reason: "the path does not fit the tree" };
    const anchor = publishedAnchor(anchors, e, proof.size);
    if (!anchor) return { state: "failed", reason: "no published anchor for this slot and size" };
    if (anchor.merkle_root !== root) return { state: "failed", reason: "root differs from the published anchor", anchor };
    return { state: "verified", anchor };
  } catch (err) {
    return { state: "failed", reason: err.message };
  }
}
