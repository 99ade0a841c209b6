/**
 * Simulated exchanges: `startVenueServer` serves every supported venue's ticker in its real
 * format for the demo, the simulator and the tests.
 */
export { startVenueServer, createVenueResponder, type VenueResponder, type VenueRequest, type VenueAnswer, type PriceFn, type VenueBehaviour, type VenueServer, type VenueServerOptions } from './server.ts';
export { VENUE_FORMATS, type SimTick, type VenueFormat } from './formats.ts';
