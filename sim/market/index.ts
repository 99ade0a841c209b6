/** Simulated markets: seeded randomness, true price paths, order books, venues and their transports. */
export { Rng } from './rng.ts';
export { gbmPath, csvPath, moveFactor, type GbmSpec, type CsvSpec, type ScriptedMove, type TruePath } from './path.ts';
export { moveCost, moveForSpend, decay, bpsOf, type BookSpec, type TradeCost } from './book.ts';
export { SimMarket, type VenueSpec, type VenueFault, type VenueState } from './market.ts';
export { serveInProcess, type InprocVenues } from './inproc.ts';
