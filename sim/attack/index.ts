/** Attacker models: venue pushes and wash trading, Byzantine and unreachable nodes, attacks on the hub. */
export * from './venue.ts';
export * from './nodes.ts';
export * from './chain.ts';
