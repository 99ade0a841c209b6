/** The shared contract between every Aegis part: crypto, report, observations, wire, committee. */
export * from './bls/index.ts';
export * from './report.ts';
export * from './observation.ts';
export * from './median.ts';
export * from './auth.ts';
export * from './messages.ts';
export * from './sign-request.ts';
export * from './committee.ts';
export * from './epoch.ts';
export * from './transport.ts';
export * from './ed25519.ts';
