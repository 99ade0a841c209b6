/**
 * The hub's ABI for the aggregator (transmit, state views, every custom error the hub and its
 * libraries declare): the generated `contracts/abi/AegisHub.json` (`npm run compile`), so an
 * aggregator never needs the Solidity compiler at run time and cannot drift from the contract.
 */
import { Interface, type InterfaceAbi } from 'ethers';
import { abiOf } from '../../contracts/abi.ts';

export const HUB_ABI: InterfaceAbi = abiOf('AegisHub');

export const hubInterface = new Interface(HUB_ABI);

/** IAegisFeeds.FeedStatus in declaration order. */
export const FEED_STATUS = ['unknown', 'active', 'tripped', 'paused', 'stale', 'suspended'] as const;

export interface DecodedRevert {
  name: string;
  args: Record<string, string>;
  /** "EpochNotAboveLast(given=12, last=12)". */
  text: string;
}

/** Decodes hub revert data by error name; null when the data is not a hub error. */
export function decodeHubError(data: string | null | undefined): DecodedRevert | null {
  if (!data || data === '0x') return null;
  try {
    const e = hubInterface.parseError(data);
    if (!e) return null;
    const args: Record<string, string> = {};
    e.fragment.inputs.forEach((input, k) => {
      args[input.name || String(k)] = String(e.args[k]);
    });
    return { name: e.name, args, text: `${e.name}(${Object.entries(args).map(([k, v]) => `${k}=${v}`).join(', ')})` };
  } catch {
    return null;
  }
}

/** Reverts that mean "someone else already moved the chain past this report": expected when several aggregators run. */
export const SUPERSEDED_ERRORS = new Set(['EpochNotAboveLast']);
