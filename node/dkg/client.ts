/**
 * The coordinator's client of the nodes' ceremony endpoints (node/dkg/routes.ts): each call
 * signed with the coordinator's key, bounded by the phase deadline, and each answer checked
 * against the shape the endpoint promises before the coordinator relies on it, so a node that
 * answers nonsense is left out with the reason instead of breaking the run later.
 */
import { z } from 'zod';
import { describeZodError, signRequest } from '../../protocol/index.ts';
import { CoordinatorError, NodeCallError } from './coordinator-error.ts';


/** One authenticated call to a node's ceremony endpoint; rejects after `timeoutMs`. */
export async function callNode(base: string, path: string, body: unknown, secret: Uint8Array, timeoutMs: number): Promise<any> {
  const text = JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(secret, { method: 'POST', path, body: text }) },
      body: text,
      signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new NodeCallError(0, 'timeout', `no answer within the phase deadline (${Math.round(timeoutMs)} ms)`);
    throw new NodeCallError(0, 'unreachable', `unreachable (${e.cause?.code ?? e.message})`);
  }
  const raw = await res.text();
  let json: any;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new NodeCallError(res.status, 'bad_answer', `HTTP ${res.status}, not JSON: ${raw.slice(0, 120)}`);
  }
  if (!res.ok) throw new NodeCallError(res.status, json?.error?.code ?? 'error', `HTTP ${res.status} ${json?.error?.code ?? ''}: ${json?.error?.message ?? raw.slice(0, 200)}`);
  return json;
}

const hexOf = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `expected 0x-prefixed ${bytes}-byte hex`);
/** Signed protocol messages are relayed as they are: the receiving nodes verify them. */
const relayed = z.looseObject({});

/** What each phase's endpoint answers (node/dkg/service.ts). */
export const ANSWER_SCHEMAS = {
  deal: z.looseObject({ deal: relayed.nullable() }),
  complaints: z.looseObject({ complaint: relayed.nullable(), rejected: z.array(z.string()).default([]) }),
  responses: z.looseObject({ response: relayed.nullable(), pending: z.array(z.number().int()).default([]) }),
  finalize: z.looseObject({
    transcriptDigest: hexOf(32),
    groupPublicKey: z.string().regex(/^0x[0-9a-fA-F]+$/),
    qualified: z.array(z.number().int().positive()),
    disqualified: z.array(z.looseObject({ dealer: z.number().int(), reason: z.string() })),
    index: z.number().int().positive().optional(),
    shareFile: z.string().optional(),
  }),
} as const;
export type PhaseAnswer<P extends keyof typeof ANSWER_SCHEMAS> = z.output<(typeof ANSWER_SCHEMAS)[P]>;

export const RotationSignAnswerSchema = z.looseObject({ index: z.number().int().positive(), signature: z.string().regex(/^0x[0-9a-fA-F]+$/), message: hexOf(32) });

/** `callNode`, then the answer checked against `schema`; a malformed answer is a `bad_answer` NodeCallError. */
export async function callNodeAs<S extends z.ZodType>(schema: S, base: string, path: string, body: unknown, secret: Uint8Array, timeoutMs: number): Promise<z.output<S>> {
  const answer = await callNode(base, path, body, secret, timeoutMs);
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new NodeCallError(200, 'bad_answer', `malformed answer from ${path}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** A node's identity key and this ceremony's encryption key (GET /v1/dkg/keys, unauthenticated). */
export async function fetchCeremonyKeys(nodeUrl: string, ceremonyId: string, timeoutMs: number): Promise<{ identityKey: string; encryptionKey: string }> {
  let res: Response;
  try {
    res = await fetch(`${nodeUrl}/v1/dkg/keys?ceremonyId=${encodeURIComponent(ceremonyId)}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new CoordinatorError('too_few_nodes', `node ${nodeUrl}: unreachable while collecting keys (${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); start it with "aegis dkg serve" or "aegis node start"`);
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new CoordinatorError('too_few_nodes', `node ${nodeUrl}: cannot get its ceremony keys: HTTP ${res.status}, not JSON`);
  }
  const keys = z.looseObject({ identityKey: hexOf(32), encryptionKey: hexOf(32) }).safeParse(json);
  if (!res.ok || !keys.success) {
    const why = (json as { error?: { message?: string } })?.error?.message ?? (keys.success ? `HTTP ${res.status}` : `malformed answer: ${describeZodError(keys.error)}`);
    throw new CoordinatorError('too_few_nodes', `node ${nodeUrl}: cannot get its ceremony keys: ${why}`);
  }
  return { identityKey: keys.data.identityKey, encryptionKey: keys.data.encryptionKey };
}
