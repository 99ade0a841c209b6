/**
 * `NodeClient` over HTTP: what an aggregator uses to call a node's `POST /v1/observe` and
 * `POST /v1/sign` (binary body, `sign-request.ts`). It sends through an `HttpPost`: the global
 * `fetch` by default (no Node-only I/O), so the simulator and a browser tool can share it
 * without importing `node/`; the aggregator passes its `node:http` transport.
 *
 * Each request is signed with the caller's identity key (`signRequest` over method, path,
 * timestamp, nonce and the exact body bytes). Answers are validated with the wire schemas;
 * a `{ error: { code, message } }` answer (409 refusal or a 4xx rejection) becomes a
 * `NodeRefusal` with the node's code, anything else (network, timeout, 5xx, garbage) a plain
 * `Error` naming the node and the cause. Timeouts use `AbortSignal.timeout`, combined with
 * the caller's signal.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { signRequest } from './auth.ts';
import { encodeReportBytes, ReportError } from './report.ts';
import { encodeSignRequest, SIGN_REQUEST_CONTENT_TYPE } from './sign-request.ts';
import type { PartialSignature } from './bls/index.ts';
import type { SignedObservation } from './observation.ts';
import {
  ErrorResponseSchema,
  parseObserveResponse,
  SignResponseSchema,
  describeZodError,
  observationFromObserveResponse,
  type ObserveRequest,
} from './messages.ts';
import { NodeRefusal, type NodeClient, type ObserveCall, type SignCall } from './transport.ts';
import type { z } from 'zod';

export interface HttpNodeClientOptions {
  /** The node's 1-based index in the committee. */
  index: number;
  /** Base URL of the node, e.g. `http://127.0.0.1:7401`. */
  url: string;
  /** The caller's (aggregator's) Ed25519 identity secret. */
  identitySecret: Uint8Array;
  /** Per-request timeout; default 5 s. */
  timeoutMs?: number;
  /** How a request is sent; default the global `fetch` (the aggregator passes a `node:http` one). */
  post?: HttpPost;
}

/** Sends one POST and reads the whole answer; rejects on a network failure or when `signal` aborts. */
export type HttpPost = (url: string, init: { headers: Record<string, string>; body: Uint8Array; signal: AbortSignal }) => Promise<{ status: number; text: string }>;

/** `HttpPost` over the global `fetch`. */
export const fetchPost: HttpPost = async (url, init) => {
  const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body as Uint8Array<ArrayBuffer>, signal: init.signal });
  return { status: res.status, text: await res.text() };
};

/** A request body: its bytes (what is sent and what the request signature covers) and media type. */
interface Body {
  bytes: Uint8Array;
  contentType: string;
}

const utf8 = new TextEncoder();

function jsonBody(value: unknown): Body {
  return { bytes: utf8.encode(JSON.stringify(value)), contentType: 'application/json' };
}

/**
 * The body of a sign request (binary, `sign-request.ts`). The aggregator sends the same report
 * and observations to every node, so the body (about 93 kB at 100 feeds × 31 nodes) is made
 * once per (report object, observations array) and reused, and so is the hash its request
 * signatures cover; reports and observations are values.
 */
const signBodies = new WeakMap<SignCall['report'], { observations: SignCall['observations']; body: Body }>();

function signBody(call: SignCall): Body {
  const hit = signBodies.get(call.report);
  if (hit && hit.observations === call.observations) return hit.body;
  const body = { bytes: encodeSignRequest(encodeReportBytes(call.report), sharedFeedList(call.observations), call.observations), contentType: SIGN_REQUEST_CONTENT_TYPE };
  signBodies.set(call.report, { observations: call.observations, body });
  return body;
}

/** The feed list every observation covers (it travels once per sign request); throws when they differ. */
function sharedFeedList(observations: SignCall['observations']): string[] {
  const first = observations[0];
  if (!first) throw new RangeError('sign request: no observations; send the ones the report was built from');
  const ids = first.observation.feeds.map((f) => f.feedId.toLowerCase());
  for (const [k, s] of observations.entries()) {
    const feeds = s.observation.feeds;
    if (feeds.length !== ids.length || feeds.some((f, j) => f.feedId.toLowerCase() !== ids[j])) {
      throw new RangeError(`sign request: observations[${k}] (node ${s.observation.nodeIndex}) covers another feed list than observations[0]; every observation of a round covers the requested feeds in order`);
    }
  }
  return ids;
}

export class HttpNodeClient implements NodeClient {
  readonly index: number;
  readonly url: string;
  readonly #secret: Uint8Array;
  readonly #timeoutMs: number;
  readonly #send: HttpPost;

  constructor(opts: HttpNodeClientOptions) {
    if (!Number.isInteger(opts.index) || opts.index < 1 || opts.index > 256) throw new RangeError(`node index ${opts.index}: must be from 1 to 256`);
    this.index = opts.index;
    this.url = opts.url.replace(/\/+$/, '');
    this.#secret = opts.identitySecret;
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    this.#send = opts.post ?? fetchPost;
  }

  async observe(call: ObserveCall, signal?: AbortSignal): Promise<SignedObservation> {
    const body: ObserveRequest = { configDigest: call.configDigest, epoch: call.epoch.toString(), feedIds: call.feedIds };
    const res = await this.#post('/v1/observe', jsonBody(body), parseObserveResponse, signal);
    let observation: SignedObservation;
    try {
      observation = observationFromObserveResponse(res, call.feedIds);
    } catch (err) {
      if (err instanceof ReportError) throw new Error(`node ${this.index} (${this.url}/v1/observe): malformed observation: ${err.message}`, { cause: err });
      throw err;
    }
    if (observation.observation.nodeIndex !== this.index) {
      throw new Error(`node ${this.index} (${this.url}): answered an observation signed as node ${observation.observation.nodeIndex}; check the committee file's url of node ${this.index}`);
    }
    return observation;
  }

  async sign(call: SignCall, signal?: AbortSignal): Promise<PartialSignature> {
    const res = await this.#post('/v1/sign', signBody(call), (json) => SignResponseSchema.safeParse(json), signal);
    if (res.index !== this.index) {
      throw new Error(`node ${this.index} (${this.url}): answered a partial signature for index ${res.index}; check the committee file's url of node ${this.index}`);
    }
    return { index: res.index, signature: hexToBytes(res.signature.slice(2)) };
  }

  async #post<T>(path: string, body: Body, validate: (json: unknown) => z.ZodSafeParseResult<T>, signal?: AbortSignal): Promise<T> {
    const headers = { 'content-type': body.contentType, ...signRequest(this.#secret, { method: 'POST', path, body: body.bytes }) };
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const where = `node ${this.index} (${this.url}${path})`;
    let res: { status: number; text: string };
    try {
      res = await this.#send(`${this.url}${path}`, { headers, body: body.bytes, signal: combined });
    } catch (err) {
      if (timeout.aborted && !signal?.aborted) throw new Error(`${where}: no answer within ${this.#timeoutMs} ms`, { cause: err });
      if (signal?.aborted) throw new Error(`${where}: aborted by caller`, { cause: err });
      throw new Error(`${where}: request failed (${(err as Error).message})`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw new Error(`${where}: HTTP ${res.status} with a non-JSON body ${JSON.stringify(res.text.slice(0, 80))}`);
    }
    if (res.status < 200 || res.status > 299) {
      const err = ErrorResponseSchema.safeParse(json);
      if (err.success && res.status >= 400 && res.status < 500) throw new NodeRefusal(this.index, err.data.error.code, err.data.error.message);
      const detail = err.success ? `${err.data.error.code}: ${err.data.error.message}` : JSON.stringify(json).slice(0, 120);
      throw new Error(`${where}: HTTP ${res.status} (${detail})`);
    }
    const parsed = validate(json);
    if (!parsed.success) throw new Error(`${where}: malformed answer: ${describeZodError(parsed.error)}`);
    return parsed.data;
  }
}

/** Hex of an identity public key as `verifyRequest` compares it (lower case, no 0x). */
export function authKeyHex(publicKey: Uint8Array): string {
  return bytesToHex(publicKey);
}
