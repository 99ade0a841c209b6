/**
 * Structured JSON logs (pino): one line per round action (`action`: poll, fetch, observe, sign,
 * start, stop, http) with its outcome and, for refusals and failures, the code and the reason
 * in words. Written to stdout (or a given stream) so any log shipper can take them.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export function createNodeLogger(level: string, node?: number, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'aegis-node', ...(node !== undefined ? { node } : {}) }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}
