/** The round protocol on the aggregator side: observe, build, sign, combine. */
export { RoundEngine, type FeedSelector, type RoundEngineOptions } from './engine.ts';
export { gather, InvalidAnswer, type GatherOptions, type Outcome } from './gather.ts';
export { checkObservation, observePhase } from './observe.ts';
export { signPhase } from './sign.ts';
export type { Exclusion, RoundFailureCode, RoundPhase, RoundResult, RoundStatus, RoundTimings, SignedReport } from './types.ts';
