/**
 * One participant of a DKG or resharing ceremony, as an explicit state machine (in the style
 * of drand's internal/dkg/state_machine.go): a status enum, one table of valid transitions,
 * one method per transition, named errors worded for the operator. No I/O and no clock: a
 * driver (the node's HTTP API, or an in-memory test) delivers the messages received so far
 * and the current time, and closes each phase when every expected message is in or its
 * deadline has passed. Absent participants are left out; nothing waits forever.
 *
 *   created ──deal()──▶ dealt ──closeDeals()──▶ complained ──closeComplaints()──▶ responded
 *                                                                   ──finalize()──▶ finalized
 *   (any non-final status) ──abort(), or too few qualified dealers──▶ failed
 *
 * A participant plays up to two roles: dealer (every member in a DKG; the listed members of
 * the current committee in a resharing, dealing their current share) and recipient (every
 * member of the committee being produced).
 *
 * Secrets (the polynomial, the decrypted shares) live only in this object. A node that must
 * survive a restart mid-ceremony persists nothing here yet: it restarts the ceremony.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { Fr, G2, type CommitteePublic, type KeyShare, evalPolynomial, publicShareOf, randomScalar } from '../bls/index.ts';
import { type ShareContext, buildDeal, commitmentsHash, decryptShare, signMessage } from './crypto.ts';
import { DkgError, type Disqualification, type DkgPhase, type RejectedMessage } from './errors.ts';
import {
  type Accepted,
  type Combined,
  type DealCheck,
  type Decision,
  acceptComplaints,
  acceptDeals,
  acceptResponses,
  checkDeals,
  combine,
  complaintsAgainst,
  decide,
  shareMatches,
} from './evaluate.ts';
import {
  type Ceremony,
  type ComplaintMessage,
  type ComplaintReason,
  type DealMessage,
  type ResponseMessage,
  type Transcript,
  ceremonyDigest,
  dealersOf,
  fromHex,
  parseCeremony,
  toHex,
  transcriptDigest,
} from './messages.ts';

// -- Status and transitions --

export const DkgStatus = {
  Created: 'created',
  Dealt: 'dealt',
  Complained: 'complained',
  Responded: 'responded',
  Finalized: 'finalized',
  Failed: 'failed',
} as const;
export type DkgStatus = (typeof DkgStatus)[keyof typeof DkgStatus];

/** The only valid transitions. */
export const DKG_TRANSITIONS: Readonly<Record<DkgStatus, readonly DkgStatus[]>> = {
  created: ['dealt', 'failed'],
  dealt: ['complained', 'failed'],
  complained: ['responded', 'failed'],
  responded: ['finalized', 'failed'],
  finalized: [],
  failed: [],
};

/** What to call next in each status (for error messages). */
const NEXT_STEP: Record<DkgStatus, string> = {
  created: 'deal() first',
  dealt: 'close the deal phase first (closeDeals)',
  complained: 'close the complaint phase first (closeComplaints)',
  responded: 'finalize the ceremony (finalize)',
  finalized: 'the ceremony is finished; start a new ceremony with a new id to change keys',
  failed: 'the ceremony failed; start a new ceremony with a new id',
};

const PHASE_OF: Record<DkgStatus, DkgPhase> = {
  created: 'deal',
  dealt: 'deal',
  complained: 'complaints',
  responded: 'responses',
  finalized: 'finalize',
  failed: 'finalize',
};

const bySender = <T>(m: ReadonlyMap<number, T>): T[] => [...m].sort((a, b) => a[0] - b[0]).map(([, v]) => v);

// -- Output --

export interface DkgOutput extends CommitteePublic {
  ceremonyId: string;
  /** Dealers whose contributions make up the key (old indices in a resharing). */
  qualified: number[];
  disqualified: Disqualification[];
  /** Commitments of the committee's polynomial, C_0 = group key (96-byte compressed). */
  commitments: Uint8Array[];
  /** This node's new share; absent for a current member that only dealt in a resharing. */
  share?: KeyShare;
  transcript: Transcript;
  /** Participants compare this at the end: equal digests mean equal views of the ceremony. */
  transcriptDigest: string;
}

export interface DkgParticipantOptions {
  /** The ceremony description (parsed and checked here). */
  ceremony: unknown;
  /** Ed25519 identity secret key (32 bytes). */
  identitySecret: Uint8Array;
  /** X25519 secret key (32 bytes); required when this node is a member of the new committee. */
  encryptionSecret?: Uint8Array;
  /** Resharing: this node's current share of the group secret, when it deals. */
  currentShare?: KeyShare;
}

export class DkgParticipant {
  readonly ceremony: Ceremony;
  /** Index in the committee being produced, when this node is a member of it. */
  readonly recipientIndex: number | undefined;
  /** Dealer index (old index in a resharing), when this node deals. */
  readonly dealerIndex: number | undefined;
  /** Messages that were not accepted, with the reason (for logs). */
  readonly rejected: RejectedMessage[] = [];

  private statusValue: DkgStatus = DkgStatus.Created;
  private failure: DkgError | undefined;
  private readonly digest: Uint8Array;
  private readonly identitySecret: Uint8Array;
  private readonly encryptionSecret: Uint8Array | undefined;
  private readonly currentShare: KeyShare | undefined;
  private coefficients: bigint[] | undefined;
  private ownDeal: DealMessage | undefined;
  private ownComplaint: ComplaintMessage | undefined;
  private ownResponse: ResponseMessage | undefined;
  private deals: Accepted<DealMessage>['accepted'] = new Map();
  private dealCheck: DealCheck | undefined;
  private received = new Map<number, bigint>();
  private complaints: Accepted<ComplaintMessage>['accepted'] = new Map();
  private responses: Accepted<ResponseMessage>['accepted'] = new Map();
  private output: DkgOutput | undefined;

  constructor(opts: DkgParticipantOptions) {
    this.ceremony = parseCeremony(opts.ceremony);
    this.digest = ceremonyDigest(this.ceremony);
    const c = this.ceremony;
    if (!(opts.identitySecret instanceof Uint8Array) || opts.identitySecret.length !== 32) {
      throw new DkgError('key_mismatch', `ceremony ${c.ceremonyId}: identity secret must be a 32-byte Ed25519 key`);
    }
    this.identitySecret = opts.identitySecret;
    const identityKey = toHex(ed25519.getPublicKey(opts.identitySecret));
    const member = c.participants.find((p) => p.identityKey === identityKey);
    const dealer = dealersOf(c).find((d) => d.identityKey === identityKey);
    if (!member && !dealer) {
      throw new DkgError('not_a_participant', `ceremony ${c.ceremonyId}: this node's identity key ${identityKey.slice(0, 18)}… is not listed; check the ceremony file or the node's keystore`);
    }
    this.recipientIndex = member?.index;
    this.dealerIndex = dealer?.index;
    if (member) {
      if (!opts.encryptionSecret) throw new DkgError('key_mismatch', `ceremony ${c.ceremonyId}: node ${member.index} is a member of the new committee and needs its X25519 encryption secret`);
      const encKey = toHex(x25519.getPublicKey(opts.encryptionSecret));
      if (encKey !== member.encryptionKey) {
        throw new DkgError('key_mismatch', `ceremony ${c.ceremonyId}: node ${member.index}'s encryption key ${encKey.slice(0, 18)}… differs from the ceremony's ${member.encryptionKey.slice(0, 18)}…; load the right key or fix the ceremony file`);
      }
      this.encryptionSecret = opts.encryptionSecret;
    }
    if (c.previous && dealer) {
      const share = opts.currentShare;
      if (!share) throw new DkgError('share_mismatch', `ceremony ${c.ceremonyId}: node ${dealer.index} of the current committee deals in this resharing and needs its current share`);
      if (share.index !== dealer.index || toHex(publicShareOf(share)) !== c.previous.publicShares[dealer.index - 1]) {
        throw new DkgError('share_mismatch', `ceremony ${c.ceremonyId}: the loaded share (index ${share.index}) is not share ${dealer.index} of the current committee (its public share differs); load this committee's keystore`);
      }
    }
    this.currentShare = opts.currentShare;
  }

  get status(): DkgStatus {
    return this.statusValue;
  }

  /** The error that moved this participant to `failed`, if any. */
  get error(): DkgError | undefined {
    return this.failure;
  }

  private transition(to: DkgStatus, action: string): void {
    const from = this.statusValue;
    if (!DKG_TRANSITIONS[from].includes(to)) {
      throw new DkgError('bad_transition', `cannot ${action} in status "${from}": ${NEXT_STEP[from]}`, PHASE_OF[from]);
    }
    this.statusValue = to;
  }

  private assertStatus(expected: DkgStatus, action: string): void {
    if (this.statusValue !== expected) {
      throw new DkgError('bad_transition', `cannot ${action} in status "${this.statusValue}": ${NEXT_STEP[this.statusValue]}`, PHASE_OF[this.statusValue]);
    }
  }

  private fail(err: DkgError): never {
    this.failure = err;
    this.statusValue = DkgStatus.Failed;
    throw err;
  }

  private assertClosable(phase: DkgPhase, have: number, expected: number, deadline: number | undefined, now: number, what: string): void {
    if (!Number.isFinite(now)) throw new TypeError(`dkg phase "${phase}": now must be unix milliseconds, got ${now}`);
    if (have >= expected || deadline === undefined || now >= deadline) return;
    throw new DkgError(
      'phase_open',
      `${have} of ${expected} ${what} received and the deadline ${new Date(deadline).toISOString()} has not passed; wait for the rest or for the deadline`,
      phase,
    );
  }

  // -- Transitions --

  /**
   * created → dealt. A dealer samples its polynomial (a_0 random in a DKG, its current share
   * in a resharing) and returns its signed bundle for broadcast; a recipient-only node
   * returns undefined.
   */
  deal(): DealMessage | undefined {
    this.assertStatus(DkgStatus.Created, 'deal');
    const c = this.ceremony;
    if (this.dealerIndex !== undefined) {
      for (;;) {
        const coefficients = [this.currentShare ? this.currentShare.secret : randomScalar()];
        for (let k = 1; k < c.t; k++) coefficients.push(randomScalar());
        // A zero share cannot be encrypted as a valid scalar (probability ~n/r): resample.
        if (c.participants.some((p) => evalPolynomial(coefficients, BigInt(p.index)) === 0n)) continue;
        this.coefficients = coefficients;
        break;
      }
      this.ownDeal = buildDeal({ ceremony: c, dealer: this.dealerIndex, identitySecret: this.identitySecret, coefficients: this.coefficients });
    }
    this.transition(DkgStatus.Dealt, 'deal');
    return this.ownDeal;
  }

  /**
   * dealt → complained. Takes every deal bundle received so far; closes the deal phase when
   * all dealers have dealt or the deal deadline has passed (else throws `phase_open`). A
   * recipient decrypts and checks its share from each dealer and returns its signed
   * complaint message (empty when every share verified); a dealer-only node returns undefined.
   */
  closeDeals(deals: readonly unknown[], now: number): ComplaintMessage | undefined {
    this.assertStatus(DkgStatus.Dealt, 'close the deal phase');
    const c = this.ceremony;
    const all = this.ownDeal ? [this.ownDeal, ...deals] : deals;
    const acc = acceptDeals(c, this.digest, all);
    this.assertClosable('deal', acc.accepted.size, dealersOf(c).length, c.deadlines?.deal, now, 'deal bundles');
    this.rejected.push(...acc.rejected);
    this.deals = acc.accepted;
    this.dealCheck = checkDeals(c, this.digest, this.deals);
    if (this.recipientIndex !== undefined) {
      const me = this.recipientIndex;
      const recipientKey = fromHex(c.participants[me - 1]!.encryptionKey);
      const complaints: { dealer: number; reason: ComplaintReason }[] = [];
      for (const [dealer, deal] of [...this.dealCheck.valid].sort((a, b) => a[0] - b[0])) {
        const m = deal.message;
        const ct = m.shares.find((s) => s.recipient === me)!;
        const ctx: ShareContext = { digest: this.digest, dealer, recipient: me, ephemeralKey: fromHex(m.ephemeralKey), recipientKey, commitmentsHash: commitmentsHash(m.commitments) };
        const s = decryptShare(fromHex(ct.ciphertext), this.encryptionSecret!, ctx);
        if (s === null) complaints.push({ dealer, reason: 'undecryptable' });
        else if (!shareMatches(s, deal.commitments, me)) complaints.push({ dealer, reason: 'bad_share' });
        else this.received.set(dealer, s);
      }
      this.ownComplaint = signMessage<ComplaintMessage>('COMPLAINT', c, { ceremonyId: c.ceremonyId, recipient: me, complaints }, this.identitySecret);
    }
    this.transition(DkgStatus.Complained, 'close the deal phase');
    return this.ownComplaint;
  }

  /**
   * complained → responded. Takes every complaint message received so far; closes when all
   * members have sent theirs or the complaint deadline has passed. A dealer accused by fewer
   * than t members returns its signed response revealing each accused share; otherwise
   * undefined.
   */
  closeComplaints(complaints: readonly unknown[], now: number): ResponseMessage | undefined {
    this.assertStatus(DkgStatus.Complained, 'close the complaint phase');
    const c = this.ceremony;
    const all = this.ownComplaint ? [this.ownComplaint, ...complaints] : complaints;
    const acc = acceptComplaints(c, this.digest, all);
    this.assertClosable('complaints', acc.accepted.size, c.participants.length, c.deadlines?.complaints, now, 'complaint messages');
    this.rejected.push(...acc.rejected);
    this.complaints = acc.accepted;
    const me = this.dealerIndex;
    if (me !== undefined && this.coefficients && this.dealCheck!.valid.has(me)) {
      const accusers = complaintsAgainst(this.dealCheck!, this.complaints).get(me) ?? [];
      if (accusers.length > 0 && accusers.length < c.t) {
        const reveals = accusers.map((recipient) => ({ recipient, share: evalPolynomial(this.coefficients!, BigInt(recipient)).toString() }));
        this.ownResponse = signMessage<ResponseMessage>('RESPONSE', c, { ceremonyId: c.ceremonyId, dealer: me, reveals }, this.identitySecret);
      }
    }
    this.transition(DkgStatus.Responded, 'close the complaint phase');
    return this.ownResponse;
  }

  /** Dealers that must answer complaints (what the response phase waits for). */
  pendingResponders(): number[] {
    if (!this.dealCheck) return [];
    return [...complaintsAgainst(this.dealCheck, this.complaints)].filter(([, a]) => a.length < this.ceremony.t).map(([d]) => d);
  }

  /**
   * responded → finalized (or failed). Takes every response received so far; closes when every
   * accused dealer has answered or the response deadline has passed. Computes the qualified
   * set, the group key, every public share and this node's share.
   */
  finalize(responses: readonly unknown[], now: number): DkgOutput {
    this.assertStatus(DkgStatus.Responded, 'finalize');
    const c = this.ceremony;
    const all = this.ownResponse ? [this.ownResponse, ...responses] : responses;
    const acc = acceptResponses(c, this.digest, all);
    const pending = this.pendingResponders();
    this.assertClosable('responses', pending.filter((d) => acc.accepted.has(d)).length, pending.length, c.deadlines?.responses, now, 'responses to complaints');
    this.rejected.push(...acc.rejected);
    this.responses = acc.accepted;
    const decision = decide(c, this.dealCheck!, this.complaints, this.responses);
    let combined: Combined;
    try {
      combined = combine(c, this.dealCheck!, decision);
    } catch (err) {
      if (err instanceof DkgError) this.fail(err);
      throw err;
    }
    const share = this.recipientIndex !== undefined ? this.ownShare(decision, combined) : undefined;
    // Serialize each point once (noble's toBytes re-checks subgroup membership, ~5 ms in G2).
    const groupPublicKey = combined.groupPublicKey.toBytes();
    const commitments = combined.commitments.map((p) => p.toBytes());
    const publicShares = combined.publicShares.map((p) => p.toBytes());
    const transcript: Transcript = {
      version: 1,
      ceremony: c,
      deals: bySender(this.deals),
      complaints: bySender(this.complaints),
      responses: bySender(this.responses),
      result: { qualified: decision.qualified, groupPublicKey: toHex(groupPublicKey), commitments: commitments.map(toHex), publicShares: publicShares.map(toHex) },
    };
    this.output = {
      ceremonyId: c.ceremonyId,
      t: c.t,
      n: c.participants.length,
      qualified: decision.qualified,
      disqualified: decision.disqualified,
      groupPublicKey,
      commitments,
      publicShares,
      ...(share ? { share } : {}),
      transcript,
      transcriptDigest: transcriptDigest(transcript),
    };
    this.transition(DkgStatus.Finalized, 'finalize');
    return this.output;
  }

  private ownShare(decision: Decision, combined: Combined): KeyShare {
    const me = this.recipientIndex!;
    let secret = 0n;
    for (const d of decision.qualified) {
      const s = decision.reveals.get(d)?.get(me) ?? this.received.get(d);
      if (s === undefined) {
        this.fail(new DkgError('bad_transcript', `node ${me} holds no verified share from qualified dealer ${d}; this is a bug, report it with the transcript`, 'finalize'));
      }
      secret = Fr.add(secret, Fr.mul(combined.weights.get(d)!, s));
    }
    if (secret === 0n) this.fail(new DkgError('zero_share', `node ${me}'s share is zero (probability ~2^-255); start a new ceremony`, 'finalize'));
    const share = { index: me, secret };
    if (!G2.BASE.multiply(secret).equals(combined.publicShares[me - 1]!)) {
      this.fail(new DkgError('bad_transcript', `node ${me}'s share does not match its public share; this is a bug, report it with the transcript`, 'finalize'));
    }
    return share;
  }

  /**
   * any non-final status → failed: the operator or the driver gives up (for example the
   * coordinator saw different transcript digests). Secrets of this ceremony are dropped.
   */
  abort(reason: string): void {
    const phase = PHASE_OF[this.statusValue];
    this.transition(DkgStatus.Failed, 'abort');
    this.failure = new DkgError('aborted', `aborted: ${reason}`, phase);
    this.coefficients = undefined;
    this.received.clear();
  }

  /** The ceremony's transcript (after finalize). */
  transcript(): Transcript {
    if (!this.output) throw new DkgError('bad_transition', `no transcript in status "${this.statusValue}": ${NEXT_STEP[this.statusValue]}`, PHASE_OF[this.statusValue]);
    return this.output.transcript;
  }
}
