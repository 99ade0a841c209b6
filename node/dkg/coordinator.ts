/**
 * The ceremony coordinator (`aegis dkg start`, `aegis dkg reshare`): drives the four phases
 * over the nodes' APIs, each with a deadline, and relays what the nodes produce. It holds no
 * secret of the ceremony: deal bundles carry shares encrypted to each recipient, and every
 * message is signed by its sender's identity key, so the coordinator can delay or drop a
 * message (that node is then left out) but cannot forge or alter one.
 *
 *   deal        POST /v1/dkg/deal to every node        → signed deal bundles (dealers)
 *   complaints  relay all bundles to every node        → signed complaint messages
 *   responses   relay all complaints                   → signed responses of accused dealers
 *   finalize    relay all responses                    → transcript digest; each node writes its share
 *
 * A node that does not answer a phase by its deadline (or answers with an error) is left out of
 * the remaining phases, and named with the phase and the reason. Fewer than the required
 * dealers (t, or the current t in a resharing) fail the ceremony at once with the missing
 * dealers named; the nodes are told to abort. At the end every node's transcript digest must be
 * equal; the transcript is fetched, re-verified (`verifyTranscript`) and written out.
 *
 * The ceremony file is the protocol's ceremony description plus transport and deployment data
 * the signatures do not cover: a `url` on each participant and previous dealer, and an
 * optional `committee` block (chainId, hub, configVersion, aggregators) for the committee file.
 */
export { CoordinatorError, NodeCallError, type CoordinatorErrorCode } from './coordinator-error.ts';
export { CeremonyFileSchema, CommitteeBaseSchema, buildCeremonyFile, committeeFileOf, planOf, type BuildOptions, type CeremonyFile, type Plan, type PlanNode } from './ceremony-file.ts';
export { callNode, callNodeAs, fetchCeremonyKeys } from './client.ts';
export { runCeremony, type Excluded, type RunOptions, type RunResult } from './run.ts';
export { ROTATION_ABI, rotateHub, type RotateOptions } from './rotation.ts';
