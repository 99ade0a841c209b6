/**
 * Readers over the SQLite files a run leaves behind, opened read-only (the processes may
 * still hold them; WAL lets a reader see every committed row):
 *  - the aggregators' round databases (`aggregator/store.ts`): epoch, start, status, timings,
 *    posting reason and transmission outcome of every round;
 *  - every node's anti-equivocation store (`node/store/signing-store.ts`): every
 *    (configDigest, epoch, reportHash) the node ever BLS-signed.
 * The column names are those stores' schemas; a store without the table reads as empty.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

export interface RoundRecord {
  /** Which aggregator's database (its host name). */
  aggregator: string;
  epoch: bigint;
  startedAt: number;
  status: string;
  failureCode: string | null;
  failureMessage: string | null;
  postingReason: string | null;
  txStatus: string | null;
  totalMs: number | null;
  /** Phase durations of the round (observeMs, buildMs, signMs, …). */
  timings: Record<string, number>;
}

export interface SignedRecord {
  node: string;
  configDigest: string;
  epoch: bigint;
  reportHash: string;
  signedAtMs: number;
}

function openReadOnly(file: string): Database.Database | null {
  if (!existsSync(file)) return null;
  return new Database(file, { readonly: true, fileMustExist: true });
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** Every round of one aggregator's database (empty when the file or table is missing). */
export function readRounds(aggregator: string, file: string): RoundRecord[] {
  const db = openReadOnly(file);
  if (!db) return [];
  try {
    if (!hasTable(db, 'rounds')) return [];
    const rows = db.prepare(`SELECT epoch, started_at, status, failure_code, failure_message, posting_reason, tx_status, timings FROM rounds ORDER BY epoch_num`).all() as {
      epoch: string;
      started_at: number;
      status: string;
      failure_code: string | null;
      failure_message: string | null;
      posting_reason: string | null;
      tx_status: string | null;
      timings: string;
    }[];
    return rows.map((r) => {
      const timings = JSON.parse(r.timings) as Record<string, number>;
      return {
        aggregator,
        epoch: BigInt(r.epoch),
        startedAt: r.started_at,
        status: r.status,
        failureCode: r.failure_code,
        failureMessage: r.failure_message,
        postingReason: r.posting_reason,
        txStatus: r.tx_status,
        totalMs: typeof timings.totalMs === 'number' ? timings.totalMs : null,
        timings,
      };
    });
  } finally {
    db.close();
  }
}

/**
 * Whether a kill at `killMs` fell in a round's signing phase: after observation and report
 * building, before the signatures were gathered (startedAt + observeMs + buildMs, + signMs].
 */
export function inSigningPhase(killMs: number, rounds: readonly RoundRecord[]): RoundRecord | undefined {
  return rounds.find((r) => {
    const from = r.startedAt + (r.timings.observeMs ?? 0) + (r.timings.buildMs ?? 0);
    return (r.timings.signMs ?? 0) > 0 && killMs >= from && killMs <= from + r.timings.signMs!;
  });
}

/** Every signature one node's store recorded. */
export function readSigned(node: string, file: string): SignedRecord[] {
  const db = openReadOnly(file);
  if (!db) return [];
  try {
    if (!hasTable(db, 'signed_reports')) return [];
    const rows = db.prepare(`SELECT config_digest, epoch, report_hash, signed_at_ms FROM signed_reports`).all() as { config_digest: string; epoch: string; report_hash: string; signed_at_ms: number }[];
    return rows.map((r) => ({ node, configDigest: r.config_digest.toLowerCase(), epoch: BigInt(r.epoch), reportHash: r.report_hash.toLowerCase(), signedAtMs: r.signed_at_ms }));
  } finally {
    db.close();
  }
}

export interface Equivocation {
  configDigest: string;
  epoch: bigint;
  /** reportHash → nodes that signed it. */
  hashes: Record<string, string[]>;
}

/**
 * Equivocations across every node's store: (configDigest, epoch) keys with more than one
 * report hash. Each store's primary key already forbids two rows for one key in one node;
 * across nodes two hashes for one epoch mean some party asked for (and some node signed) two
 * different reports under one epoch, which aggregator epoch partitioning (`epochAtMs`) rules
 * out for honest aggregators. Also reported per node: a store holding two rows for one key
 * (impossible unless the store was tampered with).
 */
export function findEquivocations(records: readonly SignedRecord[]): Equivocation[] {
  const byKey = new Map<string, Map<string, Set<string>>>();
  for (const r of records) {
    const key = `${r.configDigest}|${r.epoch}`;
    let hashes = byKey.get(key);
    if (!hashes) byKey.set(key, (hashes = new Map()));
    let nodes = hashes.get(r.reportHash);
    if (!nodes) hashes.set(r.reportHash, (nodes = new Set()));
    nodes.add(r.node);
  }
  const out: Equivocation[] = [];
  for (const [key, hashes] of byKey) {
    if (hashes.size < 2) continue;
    const [digest, epoch] = key.split('|') as [string, string];
    out.push({ configDigest: digest, epoch: BigInt(epoch), hashes: Object.fromEntries([...hashes].map(([h, n]) => [h, [...n].sort()])) });
  }
  return out.sort((a, b) => (a.epoch < b.epoch ? -1 : 1));
}
