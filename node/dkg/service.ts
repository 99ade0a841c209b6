/**
 * The node's side of a DKG or resharing ceremony: one `DkgParticipant` (protocol/dkg) per
 * ceremony id, driven phase by phase by the coordinator's relayed messages, and the two
 * side effects only a node may perform:
 *  - at `finalize`, the new share is written to an EIP-2335 keystore (`importBlsShare`);
 *  - after a resharing, the current share signs the hub's committee rotation, and only the
 *    rotation to the committee this node itself computed in that ceremony.
 *
 * Secrets never leave this object: the coordinator sees deal bundles (shares encrypted to
 * each recipient), complaint lists, revealed shares (which the protocol makes public), the
 * transcript and partial signatures.
 *
 * The X25519 key shares are encrypted to is derived from the identity key per ceremony:
 * x = HKDF-SHA256(ikm = identity seed, salt = "AEGIS_DKG_X25519_V1", info = ceremonyId), so a
 * node needs no extra key file, and every ceremony uses a fresh encryption key.
 *
 * Who decides what the node deals in is its operator, not the coordinator: `deal` joins only a
 * ceremony whose approval digest the operator approved (approvals.ts), never lowers the
 * threshold of a resharing unless that approval allows it, and deals its current share only
 * to reshare the committee of its own committee file. The rotation it signs is computed from
 * that committee file (chain, hub, config version), never from the request. At most
 * `maxCeremonies` ceremonies are held; finished or failed ones make room, oldest first.
 */
import { existsSync } from 'node:fs';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { Logger } from 'pino';
import pino from 'pino';
import { committeeDeployments, committeeForDeployment, g2ToEip2537, partialSign, rotationTo, scalarToBytes, type Committee, type KeyShare } from '../../protocol/index.ts';
import { CeremonyIdSchema } from '../../protocol/dkg/messages.ts';
import {
  DkgError,
  DkgParticipant,
  approvalDigest,
  parseCeremony,
  toHex,
  type Ceremony,
  type DkgOutput,
} from '../../protocol/dkg/index.ts';
import { importBlsShare, type KdfChoice } from '../keys/index.ts';
import { DkgRequestError, checkPreviousCommittee, checkThreshold, rolesOf, type ApprovalSource } from './approvals.ts';

export { DkgRequestError } from './approvals.ts';

/** Ceremonies held at once; a deal beyond it, with none finished to evict, is refused. */
export const MAX_CEREMONIES = 8;

const X25519_SALT = utf8ToBytes('AEGIS_DKG_X25519_V1');

/** The per-ceremony X25519 secret of a node (see the header). */
export function encryptionSecretFor(identitySecret: Uint8Array, ceremonyId: string): Uint8Array {
  return hkdf(sha256, identitySecret, X25519_SALT, utf8ToBytes(ceremonyId), 32);
}

export interface DkgServiceOptions {
  identitySecret: Uint8Array;
  /** The node's current share (resharing dealers); undefined before the first DKG. */
  loadCurrentShare?: () => Promise<KeyShare | undefined>;
  /** Where the new share is written: `preferred` if free, else `<preferred without .json>.<ceremonyId>.json`. */
  shareFile: string;
  sharePassword: () => string;
  kdf?: KdfChoice;
  logger?: Logger;
  now?: () => number;
  /** Largest clock difference to the coordinator's view of a deadline (ms). */
  maxSkewMs?: number;
  /** The operator's approvals, looked up at every deal (the config's `dkg.approvals` folder). */
  approvals: ApprovalSource;
  /** Names the approvals folder in refusals. */
  approvalsHint?: string;
  /** The config file, named in the fix of a refusal. */
  configFile?: string;
  /**
   * The node's current committee (its committee file): what a resharing dealer reshares and
   * what a rotation starts from. Throws (message = why) or returns undefined when unusable.
   */
  loadCommittee?: () => Committee | undefined;
  committeeFile?: string;
  /** Ceremonies held at once (default MAX_CEREMONIES). */
  maxCeremonies?: number;
}

interface CeremonyState {
  ceremony: Ceremony;
  participant: DkgParticipant;
  currentShare?: KeyShare;
  deal?: unknown;
  complaint?: unknown;
  response?: unknown;
  output?: DkgOutput;
  shareFile?: string;
  startedAt: number;
  phase: string;
  error?: string;
  /** The committee file this node dealt its current share from (resharing dealers). */
  committee?: Committee;
}

export class DkgNodeService {
  readonly identityKey: string;
  readonly #opts: DkgServiceOptions;
  readonly #ceremonies = new Map<string, CeremonyState>();
  readonly #logger: Logger;
  readonly #now: () => number;
  /** Serializes requests per ceremony (a retried request must not race its original). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: DkgServiceOptions) {
    this.#opts = opts;
    this.identityKey = toHex(ed25519.getPublicKey(opts.identitySecret));
    this.#logger = opts.logger ?? pino({ level: 'silent' });
    this.#now = opts.now ?? Date.now;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Public keys for a ceremony file: identity and the ceremony's encryption key. */
  keys(ceremonyId: string): { identityKey: string; encryptionKey: string } {
    if (!CeremonyIdSchema.safeParse(ceremonyId).success) throw new DkgRequestError(400, 'bad_request', `ceremonyId ${JSON.stringify(ceremonyId)}: expected 1–128 characters of A–Z a–z 0–9 . _ : -`);
    return { identityKey: this.identityKey, encryptionKey: toHex(x25519.getPublicKey(encryptionSecretFor(this.#opts.identitySecret, ceremonyId))) };
  }

  #state(ceremonyId: string, phase: string): CeremonyState {
    const s = this.#ceremonies.get(ceremonyId);
    if (!s) throw new DkgRequestError(404, 'unknown_ceremony', `dkg phase "${phase}": this node has no ceremony ${ceremonyId}; it restarted or never received the deal request: start a new ceremony with a new id`);
    return s;
  }

  /** Phase 1: join the ceremony and deal (idempotent for the same ceremony description). */
  deal(ceremonyInput: unknown): Promise<{ deal: unknown; recipient?: number; dealer?: number }> {
    return this.#serial(async () => {
      let ceremony: Ceremony;
      try {
        ceremony = parseCeremony(ceremonyInput);
      } catch (err) {
        throw asRequestError(err, 'deal');
      }
      const existing = this.#ceremonies.get(ceremony.ceremonyId);
      if (existing) {
        if (JSON.stringify(existing.ceremony) !== JSON.stringify(ceremony)) {
          throw new DkgRequestError(409, 'ceremony_conflict', `dkg phase "deal": ceremony ${ceremony.ceremonyId} is already running here with a different description; use a new ceremony id`);
        }
        if (existing.phase !== 'dealt') throw new DkgRequestError(409, 'bad_transition', `dkg phase "deal": ceremony ${ceremony.ceremonyId} is already in phase "${existing.phase}" here`);
        return this.#dealAnswer(existing);
      }
      // Operator approval first: nothing below runs, and no state is kept, for a ceremony the
      // operator did not approve.
      const digest = approvalDigest(ceremony);
      const approval = this.#opts.approvals.find(digest);
      if (!approval) {
        throw new DkgRequestError(
          403,
          'ceremony_not_approved',
          `dkg phase "deal": ceremony ${ceremony.ceremonyId} (approval digest ${digest}) is not approved by this node's operator${this.#opts.approvalsHint ? ` (approvals folder ${this.#opts.approvalsHint})` : ''}; review the ceremony file and run \`aegis dkg approve --config ${this.#opts.configFile ?? 'node.yaml'} FILE\` on this node`,
        );
      }
      checkThreshold(ceremony, approval.allowLowerThreshold);
      const roles = rolesOf(ceremony, this.identityKey);
      let committee: Committee | undefined;
      if (ceremony.previous && roles.dealer !== undefined) {
        committee = this.#committee(`resharing ${ceremony.ceremonyId}`);
        checkPreviousCommittee(ceremony, committee, this.#opts.committeeFile ?? 'committee file');
      }
      this.#makeRoom(ceremony.ceremonyId);
      let currentShare: KeyShare | undefined;
      if (ceremony.previous && roles.dealer !== undefined) {
        currentShare = await this.#opts.loadCurrentShare?.();
        if (!currentShare) throw new DkgRequestError(409, 'no_current_share', `dkg phase "deal": resharing ${ceremony.ceremonyId} lists this node as a dealer of the current committee, but it has no share loaded; start it with its share keystore`);
      }
      let participant: DkgParticipant;
      try {
        participant = new DkgParticipant({
          ceremony,
          identitySecret: this.#opts.identitySecret,
          encryptionSecret: encryptionSecretFor(this.#opts.identitySecret, ceremony.ceremonyId),
          ...(currentShare ? { currentShare } : {}),
        });
      } catch (err) {
        throw asRequestError(err, 'deal');
      }
      const state: CeremonyState = { ceremony, participant, ...(currentShare ? { currentShare } : {}), ...(committee ? { committee } : {}), startedAt: this.#now(), phase: 'dealt' };
      state.deal = participant.deal() ?? null;
      this.#ceremonies.set(ceremony.ceremonyId, state);
      this.#logger.info({ action: 'dkg', phase: 'deal', ceremony: ceremony.ceremonyId, dealer: participant.dealerIndex, recipient: participant.recipientIndex }, `dkg ${ceremony.ceremonyId}: joined and dealt`);
      return this.#dealAnswer(state);
    });
  }

  #dealAnswer(s: CeremonyState) {
    return { deal: s.deal ?? null, ...(s.participant.recipientIndex !== undefined ? { recipient: s.participant.recipientIndex } : {}), ...(s.participant.dealerIndex !== undefined ? { dealer: s.participant.dealerIndex } : {}) };
  }

  /** Phase 2: close the deal phase with the relayed bundles; returns this node's complaint message. */
  complaints(ceremonyId: string, deals: unknown[]): Promise<{ complaint: unknown; rejected: string[] }> {
    return this.#serial(async () => {
      const s = this.#state(ceremonyId, 'complaints');
      if (s.phase === 'complained') return { complaint: s.complaint ?? null, rejected: [] };
      await this.#closing(s, 'complaints', () => (s.complaint = s.participant.closeDeals(deals, this.#closeTime(s.ceremony.deadlines?.deal)) ?? null));
      s.phase = 'complained';
      return { complaint: s.complaint ?? null, rejected: s.participant.rejected.map((r) => r.reason) };
    });
  }

  /** Phase 3: close the complaint phase; returns this node's response (when accused) and the dealers that must answer. */
  responses(ceremonyId: string, complaints: unknown[]): Promise<{ response: unknown; pending: number[] }> {
    return this.#serial(async () => {
      const s = this.#state(ceremonyId, 'responses');
      if (s.phase !== 'responded') {
        await this.#closing(s, 'responses', () => (s.response = s.participant.closeComplaints(complaints, this.#closeTime(s.ceremony.deadlines?.complaints)) ?? null));
        s.phase = 'responded';
      }
      return { response: s.response ?? null, pending: s.participant.pendingResponders() };
    });
  }

  /** Phase 4: finalize, write the new share to its keystore, return the transcript digest. */
  finalize(ceremonyId: string, responses: unknown[]): Promise<Record<string, unknown>> {
    return this.#serial(async () => {
      const s = this.#state(ceremonyId, 'finalize');
      if (!s.output) {
        await this.#closing(s, 'finalize', () => (s.output = s.participant.finalize(responses, this.#closeTime(s.ceremony.deadlines?.responses))));
        const out = s.output!;
        if (out.share) {
          const file = this.#shareFileFor(ceremonyId);
          await importBlsShare(
            file,
            bytesToHex(scalarToBytes(out.share.secret)),
            { index: out.share.index, n: out.n, t: out.t, groupPublicKey: toHex(out.groupPublicKey) },
            { password: this.#opts.sharePassword(), ...(this.#opts.kdf ? { kdf: this.#opts.kdf } : {}) },
          );
          s.shareFile = file;
        }
        s.phase = 'finalized';
        this.#logger.info({ action: 'dkg', phase: 'finalize', ceremony: ceremonyId, digest: out.transcriptDigest, shareFile: s.shareFile }, `dkg ${ceremonyId}: finalized`);
      }
      const out = s.output!;
      return {
        transcriptDigest: out.transcriptDigest,
        groupPublicKey: toHex(out.groupPublicKey),
        qualified: out.qualified,
        disqualified: out.disqualified,
        ...(out.share ? { index: out.share.index, publicShare: toHex(out.publicShares[out.share.index - 1]!), shareFile: s.shareFile } : {}),
      };
    });
  }

  transcript(ceremonyId: string): unknown {
    const s = this.#state(ceremonyId, 'finalize');
    if (!s.output) throw new DkgRequestError(409, 'not_finalized', `dkg ceremony ${ceremonyId} is in phase "${s.phase}" here: no transcript yet`);
    return s.output.transcript;
  }

  /**
   * After a resharing this node dealt in: its partial signature, with its current share, over
   * the hub's rotation message from the current committee to the committee the ceremony
   * produced (configVersion + 1). Chain, hub and config version come from the node's committee
   * file (the committee whose config digest the hub holds now), read again here and still equal
   * to the ceremony's previous committee; the request's values must equal those of one of the
   * hubs that file lists (the primary or a `deployments` entry, docs/design.md §Committee file:
   * each hub rotates by its own request), else nothing is signed (`rotation_target_mismatch`).
   */
  rotationSign(ceremonyId: string, req: { chainId: bigint; hub: string; configVersion: bigint }): { index: number; signature: string; message: string } {
    const s = this.#state(ceremonyId, 'rotation');
    const prev = s.ceremony.previous;
    if (!prev || !s.currentShare) throw new DkgRequestError(409, 'not_a_dealer', `rotation ${ceremonyId}: this node did not deal its current share in this ceremony (not a resharing, or not a current member)`);
    if (!s.output) throw new DkgRequestError(409, 'not_finalized', `rotation ${ceremonyId}: the ceremony is in phase "${s.phase}" here; it signs a rotation only to a committee it finalized`);
    const all = this.#committee(`rotation ${ceremonyId}`);
    checkPreviousCommittee(s.ceremony, all, this.#opts.committeeFile ?? 'committee file');
    const file = this.#opts.committeeFile ?? 'committee file';
    // The hub the request names, when the file lists it; otherwise the primary, so the refusal
    // below names the primary's values as before.
    const target = committeeDeployments(all).find((d) => d.chainId === req.chainId && d.hub.toLowerCase() === req.hub.toLowerCase()) ?? committeeDeployments(all)[0]!;
    const committee = committeeForDeployment(all, target);
    const diffs: string[] = [];
    if (req.chainId !== committee.chainId) diffs.push(`chainId ${req.chainId} (file: ${committee.chainId})`);
    if (req.hub.toLowerCase() !== committee.hub.toLowerCase()) diffs.push(`hub ${req.hub} (file: ${committee.hub})`);
    if (req.configVersion !== committee.configVersion) diffs.push(`configVersion ${req.configVersion} (file: ${committee.configVersion})`);
    if (diffs.length) {
      throw new DkgRequestError(
        409,
        'rotation_target_mismatch',
        `rotation ${ceremonyId}: the request asks for ${diffs.join(', ')}; this node signs only the rotation of the committee in its committee file ${file}: pass that file's chain, hub and configVersion (aegis dkg rotate --committee <the hub's current committee file>)`,
      );
    }
    const key = g2ToEip2537(s.output.groupPublicKey);
    const current = { chainId: committee.chainId, hub: committee.hub, configVersion: committee.configVersion, groupPublicKey: key, n: committee.nodes.length, t: committee.t };
    const { message } = rotationTo(current, { groupPublicKey: key, n: s.output.n, t: s.output.t });
    const partial = partialSign(s.currentShare, message);
    this.#logger.info({ action: 'dkg', phase: 'rotation', ceremony: ceremonyId, configVersion: String(committee.configVersion) }, `dkg ${ceremonyId}: signed the rotation of hub ${committee.hub} on chain ${committee.chainId} to configVersion ${committee.configVersion + 1n}`);
    return { index: partial.index, signature: toHex(partial.signature), message: toHex(message) };
  }

  abort(ceremonyId: string, reason: string): { aborted: boolean } {
    const s = this.#ceremonies.get(ceremonyId);
    if (!s || s.output || s.participant.status === 'failed') return { aborted: false };
    s.participant.abort(reason);
    s.phase = 'failed';
    s.error = `aborted: ${reason}`;
    return { aborted: true };
  }

  status(): Record<string, unknown> {
    return {
      identityKey: this.identityKey,
      ceremonies: [...this.#ceremonies.values()].map((s) => ({
        ceremonyId: s.ceremony.ceremonyId,
        kind: s.ceremony.previous ? 'reshare' : 'dkg',
        phase: s.phase,
        status: s.participant.status,
        ...(s.participant.recipientIndex !== undefined ? { recipient: s.participant.recipientIndex } : {}),
        ...(s.participant.dealerIndex !== undefined ? { dealer: s.participant.dealerIndex } : {}),
        ...(s.output ? { transcriptDigest: s.output.transcriptDigest, groupPublicKey: toHex(s.output.groupPublicKey), shareFile: s.shareFile } : {}),
        ...(s.error ? { error: s.error } : {}),
        startedAt: new Date(s.startedAt).toISOString(),
      })),
    };
  }

  /** The node's committee file, or a named refusal. */
  #committee(what: string): Committee {
    let c: Committee | undefined;
    let why = 'no committee file configured';
    try {
      c = this.#opts.loadCommittee?.();
    } catch (err) {
      why = (err as Error).message;
    }
    if (!c) {
      throw new DkgRequestError(409, 'committee_unavailable', `${what}: this node needs its current committee file ${this.#opts.committeeFile ?? ''} to deal its share or sign a rotation, and it is not usable (${why}); put the current committee file there (config "committee")`);
    }
    return c;
  }

  /**
   * Bounds the ceremonies held: a new one evicts failed ones, then finished ones, oldest
   * first; with every slot in a live ceremony it is refused (429).
   */
  #makeRoom(ceremonyId: string): void {
    const cap = this.#opts.maxCeremonies ?? MAX_CEREMONIES;
    const byAge = [...this.#ceremonies.values()].sort((a, b) => a.startedAt - b.startedAt);
    const evictable = [...byAge.filter((s) => s.phase === 'failed' || s.participant.status === 'failed'), ...byAge.filter((s) => s.phase === 'finalized')];
    while (this.#ceremonies.size >= cap) {
      const victim = evictable.shift();
      if (!victim) {
        throw new DkgRequestError(
          429,
          'too_many_ceremonies',
          `dkg phase "deal": ceremony ${ceremonyId}: this node already holds ${this.#ceremonies.size} unfinished ceremonies (at most ${cap}: ${byAge.map((x) => x.ceremony.ceremonyId).join(', ')}); finish or abort one first`,
        );
      }
      this.#ceremonies.delete(victim.ceremony.ceremonyId);
      this.#logger.info({ action: 'dkg', ceremony: victim.ceremony.ceremonyId, phase: victim.phase }, `dkg ${victim.ceremony.ceremonyId}: forgotten (phase ${victim.phase}) to make room for ${ceremonyId}`);
    }
  }

  /**
   * The time a phase is closed at: the node's clock, or the phase deadline when the
   * coordinator closes it at its deadline and this node's clock is a little behind.
   */
  #closeTime(deadline: number | undefined): number {
    const now = this.#now();
    if (deadline !== undefined && now < deadline && deadline - now <= (this.#opts.maxSkewMs ?? 5_000)) return deadline;
    return now;
  }

  async #closing(s: CeremonyState, phase: string, fn: () => void): Promise<void> {
    try {
      fn();
    } catch (err) {
      if (err instanceof DkgError && err.code !== 'phase_open') {
        s.phase = s.participant.status === 'failed' ? 'failed' : s.phase;
        s.error = err.message;
      }
      throw asRequestError(err, phase);
    }
  }

  #shareFileFor(ceremonyId: string): string {
    const preferred = this.#opts.shareFile;
    if (!existsSync(preferred)) return preferred;
    const alt = `${preferred.replace(/\.json$/, '')}.${ceremonyId}.json`;
    if (existsSync(alt)) throw new DkgRequestError(409, 'share_file_exists', `dkg phase "finalize": ${preferred} and ${alt} both exist; move one away (keystores are never overwritten) and start a new ceremony`);
    return alt;
  }
}

const STATUS_OF: Partial<Record<string, number>> = { bad_ceremony: 400, bad_message: 400, not_a_participant: 403, key_mismatch: 403 };

function asRequestError(err: unknown, phase: string): unknown {
  if (err instanceof DkgError) return new DkgRequestError(STATUS_OF[err.code] ?? 409, err.code, err.message);
  if (err instanceof DkgRequestError) return err;
  if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return new DkgRequestError(409, String((err as { code: string }).code), `dkg phase "${phase}": ${err.message}`);
  }
  return err;
}
