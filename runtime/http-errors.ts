/**
 * HTTP answers other than success, one shape for every Aegis server (the node's API, its DKG
 * endpoints, the aggregator's API and dashboard): status 4xx when the request was at fault, 5xx
 * when the server was, and the body `{ "error": { "code", "message" } }` that
 * `protocol/http-node-client.ts` and operators' scripts read. Kept here so the servers cannot
 * drift apart in how they answer.
 */
import { CodedError } from './coded-error.ts';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** The JSON body of an error answer. */
export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** A failure a handler throws to be answered with `status` and `{ error: { code, message } }`. */
export class HttpError extends CodedError {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** The least of an express (or compatible) response that an error answer needs. */
export interface JsonResponse {
  status(code: number): { json(body: unknown): unknown };
}

/** Answer `status` with the error body. */
export function sendError(res: JsonResponse, status: number, code: string, message: string): void {
  res.status(status).json(errorBody(code, message));
}
