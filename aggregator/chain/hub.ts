/**
 * Read side of the hub for the aggregator: the last accepted epoch, the config digest, and
 * per feed the served answer, its observation time, round id and status, which the posting
 * policy compares new medians against.
 */
import { Contract, type Provider } from 'ethers';
import type { FeedStatusName, OnchainFeedState } from '../policy.ts';
import { FEED_STATUS, HUB_ABI } from './hub-abi.ts';
import { withRetry, type RetryOptions, DEFAULT_RETRY } from './retry.ts';

export interface HubReader {
  latestEpoch(): Promise<bigint>;
  configDigest(): Promise<string>;
  feedStates(feedIds: readonly string[]): Promise<Map<string, OnchainFeedState>>;
}

export class EthersHubReader implements HubReader {
  readonly contract: Contract;
  constructor(
    readonly address: string,
    provider: Provider,
    private readonly retry: RetryOptions = DEFAULT_RETRY,
  ) {
    this.contract = new Contract(address, HUB_ABI, provider);
  }

  async latestEpoch(): Promise<bigint> {
    return BigInt(await withRetry('hub.latestEpoch', () => this.contract.getFunction('latestEpoch').staticCall(), this.retry));
  }

  async configDigest(): Promise<string> {
    return String(await withRetry('hub.configDigest', () => this.contract.getFunction('configDigest').staticCall(), this.retry)).toLowerCase();
  }

  async feedStates(feedIds: readonly string[]): Promise<Map<string, OnchainFeedState>> {
    const configured = new Set<string>(
      ((await withRetry('hub.feedIds', () => this.contract.getFunction('feedIds').staticCall(), this.retry)) as string[]).map((x) => String(x).toLowerCase()),
    );
    const out = new Map<string, OnchainFeedState>();
    await Promise.all(
      feedIds.map(async (raw) => {
        const id = raw.toLowerCase();
        if (!configured.has(id)) {
          out.set(id, { configured: false, status: 'unknown', answer: 0n, observedAt: 0n, roundId: 0n });
          return;
        }
        const r = await withRetry(`hub.tryRead(${id})`, () => this.contract.getFunction('tryRead').staticCall(id), this.retry);
        const status: FeedStatusName = FEED_STATUS[Number(r[4])] ?? 'unknown';
        out.set(id, { configured: true, status, answer: BigInt(r[0]), observedAt: BigInt(r[1]), roundId: BigInt(r[3]) });
      }),
    );
    return out;
  }
}
