/**
 * Who was unhealthy when, from periodic `/v1/health` samples of every process (the node's
 * `{status, ready}`, the aggregator's `{status, message}` with 503 when unhealthy). A sample
 * is unhealthy when the process did not answer, answered non-2xx, or said `ready: false`;
 * consecutive unhealthy samples of one process form an interval, with the distinct
 * messages it gave (the aggregator names why: "no round for 9 s …").
 */

export interface HealthSample {
  tMs: number;
  host: string;
  ok: boolean;
  /** The process's own words, or the transport error. */
  message: string;
}

export interface UnhealthyInterval {
  host: string;
  fromMs: number;
  /** The first healthy sample after, or the last sample of the run. */
  toMs: number;
  messages: string[];
}

export function unhealthyIntervals(samples: readonly HealthSample[]): UnhealthyInterval[] {
  const byHost = new Map<string, HealthSample[]>();
  for (const s of samples) {
    let list = byHost.get(s.host);
    if (!list) byHost.set(s.host, (list = []));
    list.push(s);
  }
  const out: UnhealthyInterval[] = [];
  for (const [host, list] of byHost) {
    list.sort((a, b) => a.tMs - b.tMs);
    let open: UnhealthyInterval | null = null;
    for (const s of list) {
      if (!s.ok) {
        if (!open) open = { host, fromMs: s.tMs, toMs: s.tMs, messages: [] };
        open.toMs = s.tMs;
        if (!open.messages.includes(s.message) && open.messages.length < 8) open.messages.push(s.message);
      } else if (open) {
        open.toMs = s.tMs;
        out.push(open);
        open = null;
      }
    }
    if (open) out.push(open);
  }
  return out.sort((a, b) => a.fromMs - b.fromMs || a.host.localeCompare(b.host));
}

/** Interprets one `/v1/health` answer (status code and parsed body). */
export function judgeHealth(status: number, body: unknown): { ok: boolean; message: string } {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const message = typeof b.message === 'string' ? b.message : typeof b.status === 'string' ? String(b.status) : `HTTP ${status}`;
  if (status < 200 || status >= 300) return { ok: false, message };
  if (b.ready === false) return { ok: false, message: 'not ready' };
  return { ok: true, message };
}

/** Polls one URL's health with a timeout; never throws. */
export async function sampleHealth(url: string, timeoutMs = 1500): Promise<{ ok: boolean; message: string }> {
  try {
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(timeoutMs) });
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    return judgeHealth(res.status, body);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ok: false, message: `unreachable (${e.cause?.code ?? e.name})` };
  }
}
