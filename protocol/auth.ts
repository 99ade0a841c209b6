/**
 * Authenticated requests between aggregators and nodes. The caller signs, with its Ed25519
 * identity key, the method, path, a timestamp, a random nonce and the SHA-256 of the body;
 * the callee accepts only listed keys, a timestamp within the allowed skew, and each nonce
 * once within that window, so a captured request cannot be replayed.
 *
 * Headers: x-aegis-key (hex public key), x-aegis-timestamp (unix ms), x-aegis-nonce (hex),
 * x-aegis-signature (hex).
 */
import { createHash } from 'node:crypto';
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { edPublicKey, edSign, edVerify } from './ed25519.ts';

export const AUTH_HEADERS = {
  key: 'x-aegis-key',
  timestamp: 'x-aegis-timestamp',
  nonce: 'x-aegis-nonce',
  signature: 'x-aegis-signature',
} as const;

export interface RequestToSign {
  method: string;
  path: string;
  body: string | Uint8Array;
}

/**
 * SHA-256 on node:crypto (OpenSSL): sign bodies carry every observation (hundreds of kB at
 * 100 feeds × 31 nodes), and both ends hash them; the pure-JS hash was a visible share of a
 * round. Same bytes in, same digest out (RFC 6234).
 */
function sha256(data: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

/**
 * The last body hashed when signing (the same string, or the same byte array object): an
 * aggregator sends one sign body to every node. Callers do not modify a body once sent.
 */
let lastSigned: { body: string | Uint8Array; hex: string } | undefined;

function bodyHashHex(body: string | Uint8Array, memo: boolean): string {
  if (memo) {
    if (lastSigned?.body !== body) lastSigned = { body, hex: bytesToHex(sha256(body)) };
    return lastSigned.hex;
  }
  return bytesToHex(sha256(body));
}

function digest(req: RequestToSign, timestamp: string, nonce: string, memo = false): Uint8Array {
  // A string body is hashed as its UTF-8 bytes.
  return sha256(`AEGIS_REQUEST_V1\n${req.method.toUpperCase()}\n${req.path}\n${timestamp}\n${nonce}\n${bodyHashHex(req.body, memo)}`);
}

export function signRequest(identitySecret: Uint8Array, req: RequestToSign, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(nowMs);
  const nonce = bytesToHex(randomBytes(16));
  return {
    [AUTH_HEADERS.key]: bytesToHex(edPublicKey(identitySecret)),
    [AUTH_HEADERS.timestamp]: timestamp,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.signature]: bytesToHex(edSign(digest(req, timestamp, nonce, true), identitySecret)),
  };
}

export type AuthFailure = 'missing_headers' | 'unknown_key' | 'bad_timestamp' | 'clock_skew' | 'replayed_nonce' | 'bad_signature';

export type AuthResult = { ok: true; key: string } | { ok: false; reason: AuthFailure; message: string };

/** Remembers nonces for the skew window; bounded so a flood cannot exhaust memory. */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  /** Records the nonce; false when it was already seen inside the window. */
  add(key: string, nonce: string, nowMs: number): boolean {
    const id = `${key}:${nonce}`;
    for (const [k, at] of this.seen) {
      if (at >= nowMs - this.windowMs && this.seen.size < this.maxEntries) break;
      this.seen.delete(k);
    }
    if (this.seen.has(id)) return false;
    this.seen.set(id, nowMs);
    return true;
  }
}

export interface VerifyOptions {
  allowedKeys: ReadonlySet<string>;
  nonces: NonceCache;
  maxSkewMs: number;
  nowMs?: number;
}

export function verifyRequest(headers: Record<string, string | string[] | undefined>, req: RequestToSign, opts: VerifyOptions): AuthResult {
  const get = (h: string): string | undefined => {
    const v = headers[h];
    return Array.isArray(v) ? v[0] : v;
  };
  const key = get(AUTH_HEADERS.key)?.toLowerCase();
  const timestamp = get(AUTH_HEADERS.timestamp);
  const nonce = get(AUTH_HEADERS.nonce);
  const signature = get(AUTH_HEADERS.signature);
  if (!key || !timestamp || !nonce || !signature) {
    return { ok: false, reason: 'missing_headers', message: `request not signed: send ${Object.values(AUTH_HEADERS).join(', ')}` };
  }
  if (!opts.allowedKeys.has(key)) return { ok: false, reason: 'unknown_key', message: `caller key ${key.slice(0, 16)}…: not an aggregator listed in this node's config` };
  const now = opts.nowMs ?? Date.now();
  const ts = Number(timestamp);
  if (!/^\d{1,16}$/.test(timestamp) || !Number.isSafeInteger(ts)) return { ok: false, reason: 'bad_timestamp', message: `timestamp ${JSON.stringify(timestamp)}: expected unix milliseconds` };
  if (Math.abs(now - ts) > opts.maxSkewMs) {
    return { ok: false, reason: 'clock_skew', message: `timestamp ${ts}: ${Math.abs(now - ts)} ms from this node's clock, more than ${opts.maxSkewMs} ms; check NTP on both machines` };
  }
  if (!/^[0-9a-f]{32}$/i.test(nonce)) return { ok: false, reason: 'missing_headers', message: 'nonce: expected 16 bytes of hex' };
  let valid = false;
  try {
    valid = edVerify(hexToBytes(signature), digest(req, timestamp, nonce), hexToBytes(key));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'bad_signature', message: 'request signature does not verify against the caller key' };
  if (!opts.nonces.add(key, nonce, now)) return { ok: false, reason: 'replayed_nonce', message: `nonce ${nonce}: already used; a captured request cannot be replayed` };
  return { ok: true, key };
}
