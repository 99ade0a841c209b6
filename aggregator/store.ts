/**
 * Round history in SQLite (better-sqlite3; WAL, synchronous=FULL so an acknowledged write
 * survives a power cut). Every round is a row: epoch, feeds, answers, participants,
 * excluded nodes with reasons, posting reason, and once transmitted the tx hash, gas and
 * outcome. The reserved-epoch counter lives here too: an epoch is written before any node is
 * asked to sign it, so a restart never reuses one.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeReport, observationFromJson, observationToJson, type SignedObservation, type SignedObservationJson } from '../protocol/index.ts';
import { AggregatorError } from './errors.ts';
import type { RoundResult } from './round/types.ts';

export interface StoredRound {
  epoch: bigint;
  startedAt: number;
  status: string;
  failureCode: string | null;
  failureMessage: string | null;
  feeds: string[];
  /** feedId → answer (decimal string) of the feeds in the signed report. */
  answers: Record<string, string>;
  participants: { observed: number[]; signed: number[] };
  excluded: { index: number; phase: string; code: string; reason: string }[];
  skipped: { feedId: string; reason: string }[];
  postingReason: string | null;
  decisions: string[];
  encodedReport: string | null;
  signature: string | null;
  signatureEvm: string | null;
  observations: SignedObservation[];
  txHash: string | null;
  txStatus: string | null;
  txDetail: string | null;
  gasUsed: bigint | null;
  feeWei: bigint | null;
  timings: Record<string, number>;
}

export interface TransmissionRecord {
  status: string;
  detail: string;
  txHash?: string;
  gasUsed?: bigint;
  feeWei?: bigint;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (
  epoch TEXT PRIMARY KEY,
  epoch_num INTEGER NOT NULL,
  config_digest TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  failure_code TEXT,
  failure_message TEXT,
  feeds TEXT NOT NULL,
  answers TEXT NOT NULL,
  participants TEXT NOT NULL,
  excluded TEXT NOT NULL,
  skipped TEXT NOT NULL,
  posting_reason TEXT,
  decisions TEXT NOT NULL,
  encoded_report TEXT,
  signature TEXT,
  signature_evm TEXT,
  observations TEXT NOT NULL,
  tx_hash TEXT,
  tx_status TEXT,
  tx_detail TEXT,
  gas_used TEXT,
  fee_wei TEXT,
  timings TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rounds_by_epoch ON rounds (epoch_num);
`;

export class RoundStore {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new AggregatorError('store_failed', `round store ${path}: cannot open (${(err as Error).message}); check the db path in the config and its permissions`, { cause: err });
    }
  }

  /** The highest epoch this aggregator ever reserved (0 when none). */
  reservedEpoch(): bigint {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'reserved_epoch'`).get() as { value: string } | undefined;
    return row ? BigInt(row.value) : 0n;
  }

  /** Durably reserves `epoch` before nodes are asked to sign it; refuses to go backwards. */
  reserveEpoch(epoch: bigint): void {
    const tx = this.db.transaction(() => {
      const current = this.reservedEpoch();
      if (epoch <= current) throw new AggregatorError('epoch_exhausted', `epoch ${epoch}: not above the reserved epoch ${current}; epochs strictly increase`);
      this.db.prepare(`INSERT INTO meta (key, value) VALUES ('reserved_epoch', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(epoch.toString());
    });
    tx.immediate();
  }

  recordRound(r: RoundResult, posting: { reason: string | null; decisions: string[] }): void {
    const answers: Record<string, string> = {};
    if (r.signed) r.signed.report.feedIds.forEach((id, k) => (answers[id] = r.signed!.report.answers[k]!.toString()));
    this.db
      .prepare(
        `INSERT OR REPLACE INTO rounds (epoch, epoch_num, config_digest, started_at, status, failure_code, failure_message, feeds, answers, participants, excluded, skipped,
          posting_reason, decisions, encoded_report, signature, signature_evm, observations, timings)
         VALUES (@epoch, @epochNum, @digest, @startedAt, @status, @failureCode, @failureMessage, @feeds, @answers, @participants, @excluded, @skipped,
          @postingReason, @decisions, @encoded, @signature, @signatureEvm, @observations, @timings)`,
      )
      .run({
        epoch: r.epoch.toString(),
        epochNum: Number(r.epoch),
        digest: r.configDigest,
        startedAt: r.startedAt,
        status: r.status,
        failureCode: r.failure?.code ?? null,
        failureMessage: r.failure?.message ?? null,
        feeds: JSON.stringify(r.feedIds),
        answers: JSON.stringify(answers),
        participants: JSON.stringify(r.participants),
        excluded: JSON.stringify(r.excluded),
        skipped: JSON.stringify(r.skipped),
        postingReason: posting.reason,
        decisions: JSON.stringify(posting.decisions),
        encoded: r.signed?.encoded ?? null,
        signature: r.signed?.signature ?? null,
        signatureEvm: r.signed?.signatureEvm ?? null,
        observations: JSON.stringify((r.signed?.observations ?? []).map(observationToJson)),
        timings: JSON.stringify(r.timings),
      });
  }

  /** Who signed and who was excluded, once a sign phase that ended on its first t partials heard from the rest. */
  recordParticipation(epoch: bigint, participants: RoundResult['participants'], excluded: RoundResult['excluded']): void {
    this.db.prepare(`UPDATE rounds SET participants = ?, excluded = ? WHERE epoch = ?`).run(JSON.stringify(participants), JSON.stringify(excluded), epoch.toString());
  }

  recordTransmission(epoch: bigint, t: TransmissionRecord): void {
    this.db
      .prepare(`UPDATE rounds SET tx_hash = ?, tx_status = ?, tx_detail = ?, gas_used = ?, fee_wei = ? WHERE epoch = ?`)
      .run(t.txHash ?? null, t.status, t.detail, t.gasUsed?.toString() ?? null, t.feeWei?.toString() ?? null, epoch.toString());
  }

  get(epoch: bigint): StoredRound | undefined {
    const row = this.db.prepare(`SELECT * FROM rounds WHERE epoch = ?`).get(epoch.toString());
    return row ? toStored(row as Row) : undefined;
  }

  recent(limit = 50): StoredRound[] {
    return (this.db.prepare(`SELECT * FROM rounds ORDER BY epoch_num DESC LIMIT ?`).all(limit) as Row[]).map(toStored);
  }

  /**
   * Per node, how many rounds started at or after `sinceMs` it observed, signed or was
   * excluded from, and the number of rounds in that window (the dashboard's participation
   * over hours, without loading the rounds).
   */
  participationSince(sinceMs: number): { rounds: number; oldestAt: number | null; byNode: Map<number, { observed: number; signed: number; excluded: number }> } {
    const byNode = new Map<number, { observed: number; signed: number; excluded: number }>();
    const at = (i: number) => byNode.get(i) ?? (byNode.set(i, { observed: 0, signed: 0, excluded: 0 }), byNode.get(i)!);
    let rounds = 0;
    let oldestAt: number | null = null;
    const stmt = this.db.prepare(`SELECT started_at, participants, excluded FROM rounds WHERE started_at >= ? ORDER BY epoch_num`);
    for (const row of stmt.iterate(sinceMs) as Iterable<{ started_at: number; participants: string; excluded: string }>) {
      rounds++;
      oldestAt ??= row.started_at;
      const p = JSON.parse(row.participants) as { observed: number[]; signed: number[] };
      for (const i of p.observed) at(i).observed++;
      for (const i of p.signed) at(i).signed++;
      for (const x of JSON.parse(row.excluded) as { index: number }[]) at(x.index).excluded++;
    }
    return { rounds, oldestAt, byNode };
  }

  count(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM rounds`).get() as { n: number }).n;
  }

  /** The newest signed round whose report carries every feed in `feedIds` (all feeds when empty). */
  latestSigned(feedIds: readonly string[] = []): StoredRound | undefined {
    const want = feedIds.map((f) => f.toLowerCase());
    const stmt = this.db.prepare(`SELECT * FROM rounds WHERE encoded_report IS NOT NULL ORDER BY epoch_num DESC LIMIT 200`);
    for (const row of stmt.iterate() as Iterable<Row>) {
      const ids = decodeReport(row.encoded_report!).feedIds.map((f) => f.toLowerCase());
      if (want.every((f) => ids.includes(f))) return toStored(row);
    }
    return undefined;
  }

  /**
   * Delete every round older than the newest `keepRounds` (by epoch; at most `maxDelete` per
   * call so a first prune of a large database holds the write lock briefly), then checkpoint
   * the WAL. The reserved-epoch row in `meta` is untouched. SQLite reuses the freed pages, so
   * the file stops growing; it does not shrink. Returns the rounds deleted.
   */
  prune(keepRounds: number, maxDelete = 50_000): number {
    if (!Number.isSafeInteger(keepRounds) || keepRounds < 1) throw new AggregatorError('bad_config', `round store ${this.path}: keepRounds ${String(keepRounds)} must be an integer >= 1; set dbRetention.retainRounds to 1 or more`);
    const tx = this.db.transaction(() => {
      const cut = this.db.prepare(`SELECT epoch_num FROM rounds ORDER BY epoch_num DESC LIMIT 1 OFFSET ?`).get(keepRounds - 1) as { epoch_num: number } | undefined;
      if (!cut) return 0;
      return this.db.prepare(`DELETE FROM rounds WHERE epoch IN (SELECT epoch FROM rounds WHERE epoch_num < ? ORDER BY epoch_num LIMIT ?)`).run(cut.epoch_num, maxDelete).changes;
    });
    const deleted = tx.immediate();
    // PASSIVE never waits on a writer; once every frame is copied the next write restarts the
    // WAL, so it stays near one prune interval of writes instead of the auto-checkpoint size.
    this.db.pragma('wal_checkpoint(PASSIVE)');
    return deleted;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface Row {
  epoch: string;
  started_at: number;
  status: string;
  failure_code: string | null;
  failure_message: string | null;
  feeds: string;
  answers: string;
  participants: string;
  excluded: string;
  skipped: string;
  posting_reason: string | null;
  decisions: string;
  encoded_report: string | null;
  signature: string | null;
  signature_evm: string | null;
  observations: string;
  tx_hash: string | null;
  tx_status: string | null;
  tx_detail: string | null;
  gas_used: string | null;
  fee_wei: string | null;
  timings: string;
}

/**
 * The signed observations of a round, stored in their wire form and decoded against the
 * round's feed list (every observation covers it). Rows written before encoding v2 hold v1
 * observations, which no V2 decoder reads: those rows serve none.
 */
function storedObservations(r: Row): SignedObservation[] {
  const stored = JSON.parse(r.observations) as SignedObservationJson[];
  if (stored.some((o) => typeof o.encoded !== 'string')) return [];
  const feedIds = JSON.parse(r.feeds) as string[];
  return stored.map((o, k) => observationFromJson(o, feedIds, `round ${r.epoch} observations[${k}]`));
}

function toStored(r: Row): StoredRound {
  return {
    epoch: BigInt(r.epoch),
    startedAt: r.started_at,
    status: r.status,
    failureCode: r.failure_code,
    failureMessage: r.failure_message,
    feeds: JSON.parse(r.feeds),
    answers: JSON.parse(r.answers),
    participants: JSON.parse(r.participants),
    excluded: JSON.parse(r.excluded),
    skipped: JSON.parse(r.skipped),
    postingReason: r.posting_reason,
    decisions: JSON.parse(r.decisions),
    encodedReport: r.encoded_report,
    signature: r.signature,
    signatureEvm: r.signature_evm,
    observations: storedObservations(r),
    txHash: r.tx_hash,
    txStatus: r.tx_status,
    txDetail: r.tx_detail,
    gasUsed: r.gas_used === null ? null : BigInt(r.gas_used),
    feeWei: r.fee_wei === null ? null : BigInt(r.fee_wei),
    timings: JSON.parse(r.timings),
  };
}
