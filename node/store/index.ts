/**
 * Public surface of the node's durable store: the anti-equivocation signing store (with a small
 * node-state key/value table) on SQLite.
 */
export { StoreError, type StoreErrorCode } from './errors.ts';
export { SigningStore, type CheckResult, type SignedRecord } from './signing-store.ts';
