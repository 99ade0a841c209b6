/**
 * The anti-equivocation store: the node's durable memory of every report it has BLS-signed,
 * in the spirit of validators' slashing protection (EIP-3076).
 *
 * Rules, per configDigest:
 *  - never two different report hashes for one `(configDigest, epoch)` → `conflicting_report`;
 *  - never an epoch below the highest one already signed → `epoch_regression`;
 *  - asking again for a `(configDigest, epoch, reportHash)` already recorded is an idempotent
 *    repeat (`repeat: true`): BLS signatures are deterministic, so re-releasing the same
 *    signature reveals nothing new.
 *
 * Contract with the signer: call `checkAndRecord` BEFORE computing or releasing a partial
 * signature, and release it only on `ok: true`. When `checkAndRecord` returns, the record is
 * committed with `synchronous=FULL` in WAL mode, so it survives a process crash or power loss;
 * a crash between commit and release only loses a signature, never allows a conflicting one.
 *
 * Check and insert run in one `BEGIN IMMEDIATE` transaction, so two processes pointed at the
 * same file by mistake still cannot both sign conflicting reports. Epochs are uint64 and stored
 * as 20-digit zero-padded text (SQLite integers are signed 64-bit); text order is numeric order.
 *
 * The store also keeps a small key/value table for node state that must survive restarts
 * (for example the last epoch an observation was served for).
 *
 * Retention (`prune`): one row per signed round would grow the file forever. The rules above
 * need only the highest signed epoch per digest (regression) and the rows of epochs an
 * aggregator may still ask again (idempotent repeats, seconds after the first request). So
 * `prune(keepRows)` keeps the newest `keepRows` epochs of every digest and deletes older ones,
 * never the highest. A request for a pruned epoch is below the highest one and is refused as
 * `epoch_regression`, so pruning turns an old idempotent repeat into a refusal but can never
 * allow a conflicting report or an older epoch. Freed pages are reused by later inserts (the
 * file stops growing, it does not shrink); the WAL is checkpointed after each prune so it
 * restarts instead of growing to the auto-checkpoint size.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './errors.ts';
import { lockStore, type InstanceLock } from './instance-lock.ts';

export type CheckResult =
  | { ok: true; repeat: boolean }
  | { ok: false; reason: 'conflicting_report' | 'epoch_regression'; detail: string };

export interface SignedRecord {
  epoch: bigint;
  reportHash: string;
  signedAtMs: number;
}

const SCHEMA_VERSION = 1;
const UINT64_MAX = (1n << 64n) - 1n;
const HEX32 = /^0x[0-9a-fA-F]{64}$/;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS signed_reports (
    config_digest TEXT NOT NULL,
    epoch         TEXT NOT NULL,
    report_hash   TEXT NOT NULL,
    signed_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (config_digest, epoch)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS node_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
`;

interface Row {
  epoch: string;
  report_hash: string;
  signed_at_ms: number;
}

export class SigningStore {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #find: Database.Statement<[string, string], Row>;
  readonly #highest: Database.Statement<[string], Row>;
  readonly #insert: Database.Statement<[string, string, string, number]>;
  readonly #getValue: Database.Statement<[string], { value: string }>;
  readonly #setValue: Database.Statement<[string, string]>;
  readonly #checkAndRecord: (configDigest: string, epoch: bigint, reportHash: string) => CheckResult;
  readonly #prune: (keepRows: number, maxDelete: number) => number;
  readonly #lock: InstanceLock | undefined;

  private constructor(db: Database.Database, path: string, lock: InstanceLock | undefined) {
    this.#db = db;
    this.#path = path;
    this.#lock = lock;
    this.#find = db.prepare('SELECT epoch, report_hash, signed_at_ms FROM signed_reports WHERE config_digest = ? AND epoch = ?');
    this.#highest = db.prepare(
      'SELECT epoch, report_hash, signed_at_ms FROM signed_reports WHERE config_digest = ? ORDER BY epoch DESC LIMIT 1',
    );
    this.#insert = db.prepare('INSERT INTO signed_reports (config_digest, epoch, report_hash, signed_at_ms) VALUES (?, ?, ?, ?)');
    this.#getValue = db.prepare('SELECT value FROM node_state WHERE key = ?');
    this.#setValue = db.prepare('INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    const tx = db.transaction((digest: string, epoch: bigint, hash: string) => this.#decide(digest, epoch, hash));
    this.#checkAndRecord = (digest, epoch, hash) => tx.immediate(digest, epoch, hash);
    const digests = db.prepare<[], { config_digest: string }>('SELECT DISTINCT config_digest FROM signed_reports');
    // The epoch of the keepRows-th newest row; every row strictly below it goes (the highest
    // row is the 1st newest, so with keepRows >= 1 it is never below the cutoff).
    const cutoff = db.prepare<[string, number], { epoch: string }>('SELECT epoch FROM signed_reports WHERE config_digest = ? ORDER BY epoch DESC LIMIT 1 OFFSET ?');
    const del = db.prepare<[string, string, string, number]>(
      'DELETE FROM signed_reports WHERE config_digest = ? AND epoch IN (SELECT epoch FROM signed_reports WHERE config_digest = ? AND epoch < ? ORDER BY epoch LIMIT ?)',
    );
    const pruneTx = db.transaction((keepRows: number, maxDelete: number) => {
      let deleted = 0;
      for (const { config_digest: d } of digests.all()) {
        const c = cutoff.get(d, keepRows - 1);
        if (!c || deleted >= maxDelete) continue;
        deleted += del.run(d, d, c.epoch, maxDelete - deleted).changes;
      }
      return deleted;
    });
    this.#prune = (keepRows, maxDelete) => pruneTx.immediate(keepRows, maxDelete);
  }

  /**
   * Open (creating it and its folder if needed) the store at `path`: WAL, `synchronous=FULL`,
   * schema checked, and locked to this process (`store_locked` if another live process holds
   * it). `lock: false` is for tools that only read, and for tests of the transaction-level
   * guarantee between two handles.
   */
  static open(path: string, opts: { lock?: boolean } = {}): SigningStore {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError('open_failed', `signing store ${path}: cannot create its folder ${dirname(path)} (${(err as Error).message}); create it or choose a writable store path`, { cause: err });
    }
    const lock = opts.lock === false ? undefined : lockStore(path);
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (err) {
      lock?.release();
      throw new StoreError('open_failed', `signing store ${path}: cannot open (${(err as Error).message}); check that the directory exists and is writable`, { cause: err });
    }
    try {
      db.pragma('busy_timeout = 5000');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') {
        throw new StoreError('not_durable', `signing store ${path}: journal_mode is ${mode}, not wal; put the store on a local filesystem that supports WAL`);
      }
      db.pragma('synchronous = FULL');
      const version = Number(db.pragma('user_version', { simple: true }));
      if (version > SCHEMA_VERSION) {
        throw new StoreError(
          'unsupported_schema',
          `signing store ${path}: schema version ${version} is newer than this node understands (${SCHEMA_VERSION}); run the node version that wrote it`,
        );
      }
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return new SigningStore(db, path, lock);
    } catch (err) {
      db.close();
      lock?.release();
      if (err instanceof StoreError) throw err;
      throw new StoreError('open_failed', `signing store ${path}: cannot use it (${(err as Error).message}); if the file is not this node's store, move it away`, { cause: err });
    }
  }

  /**
   * Decide whether the node may sign `reportHash` at `(configDigest, epoch)` and, if so, record
   * it durably before returning. Release a signature only on `{ ok: true }`.
   */
  checkAndRecord(configDigest: string, epoch: bigint, reportHash: string): CheckResult {
    return this.#checkAndRecord(hex32('configDigest', configDigest), uint64('epoch', epoch), hex32('reportHash', reportHash));
  }

  /** The highest signed epoch of `configDigest`, if any. */
  highestSigned(configDigest: string): SignedRecord | undefined {
    const row = this.#highest.get(hex32('configDigest', configDigest));
    return row && toRecord(row);
  }

  /** A node-state value, or undefined. */
  getValue(key: string): string | undefined {
    return this.#getValue.get(key)?.value;
  }

  /** Set a node-state value durably. */
  setValue(key: string, value: string): void {
    this.#setValue.run(key, value);
  }

  /**
   * Delete every row older than the newest `keepRows` epochs of its config digest (at most
   * `maxDelete` rows per call, so a first prune of a large store does not hold the write lock
   * for long; call again to continue), then checkpoint the WAL. Returns the rows deleted.
   * Never deletes the highest signed epoch of a digest, so `epoch_regression` still holds.
   */
  prune(keepRows: number, maxDelete = 50_000): number {
    if (!Number.isSafeInteger(keepRows) || keepRows < 1) {
      throw new StoreError('invalid_argument', `signing store: keepRows ${String(keepRows)} must be an integer >= 1 (the highest signed epoch is always kept); set store.retainRows to 1 or more`);
    }
    if (!Number.isSafeInteger(maxDelete) || maxDelete < 1) throw new StoreError('invalid_argument', `signing store: maxDelete ${String(maxDelete)} must be an integer >= 1`);
    const deleted = this.#prune(keepRows, maxDelete);
    // PASSIVE: never waits on a writer; once every frame is copied the next write restarts the WAL.
    this.#db.pragma('wal_checkpoint(PASSIVE)');
    return deleted;
  }

  /** Rows kept for `configDigest` (tests, status). */
  rowCount(configDigest?: string): number {
    const row = configDigest === undefined
      ? (this.#db.prepare('SELECT COUNT(*) AS n FROM signed_reports').get() as { n: number })
      : (this.#db.prepare('SELECT COUNT(*) AS n FROM signed_reports WHERE config_digest = ?').get(hex32('configDigest', configDigest)) as { n: number });
    return row.n;
  }

  close(): void {
    this.#db.close();
    this.#lock?.release();
  }

  #decide(digest: string, epoch: bigint, hash: string): CheckResult {
    const key = epochKey(epoch);
    const existing = this.#find.get(digest, key);
    if (existing) {
      if (existing.report_hash === hash) return { ok: true, repeat: true };
      return {
        ok: false,
        reason: 'conflicting_report',
        detail: `config ${digest} epoch ${epoch}: already signed report ${existing.report_hash}, refusing different report ${hash} (store ${this.#path})`,
      };
    }
    const highest = this.#highest.get(digest);
    if (highest && highest.epoch > key) {
      return {
        ok: false,
        reason: 'epoch_regression',
        detail: `config ${digest}: epoch ${epoch} is below the highest signed epoch ${BigInt(highest.epoch)}; only newer epochs can be signed (store ${this.#path})`,
      };
    }
    this.#insert.run(digest, key, hash, Date.now());
    return { ok: true, repeat: false };
  }
}

function toRecord(row: Row): SignedRecord {
  return { epoch: BigInt(row.epoch), reportHash: row.report_hash, signedAtMs: row.signed_at_ms };
}

function epochKey(epoch: bigint): string {
  return epoch.toString().padStart(20, '0');
}

function hex32(what: string, value: string): string {
  if (typeof value !== 'string' || !HEX32.test(value)) {
    throw new StoreError('invalid_argument', `signing store: ${what} ${String(value)} is not 0x-prefixed 32-byte hex; pass the 66-character hex string`);
  }
  return value.toLowerCase();
}

function uint64(what: string, value: bigint): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) {
    throw new StoreError('invalid_argument', `signing store: ${what} ${String(value)} is not a uint64 bigint; pass a bigint in [0, 2^64−1]`);
  }
  return value;
}
