/**
 * The aggregator's two keys, each in a password-protected file:
 *
 * - identity (Ed25519): authenticates requests to nodes; listed under `aggregators` in the
 *   committee file. EIP-2335 keystore (`@chainsafe/bls-keystore`: scrypt + AES-128-CTR), the
 *   same format the node uses for its identity key; the secret is the 32-byte seed.
 * - transmitter (secp256k1): pays for `transmit`. Web3 Secret Storage JSON (ethers
 *   `encryptKeystoreJson`), the format wallets import.
 *
 * Passwords come from a file or an environment variable, never from the command line
 * (`runtime/password.ts`, shared with the node).
 */
import { create, decrypt, type IKeystore } from '@chainsafe/bls-keystore';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { decryptKeystoreJson, encryptKeystoreJson, hexlify, Wallet } from 'ethers';
import { readPassword as readPasswordFrom, type PasswordSource } from '../runtime/password.ts';
import { AggregatorError } from './errors.ts';

export type { PasswordSource };

const AGGREGATOR = { process: 'the aggregator', error: (message: string) => new AggregatorError('bad_config', message) };

/** Read a keystore password from its source (`runtime/password.ts`); throws `bad_config` naming the source. */
export function readPassword(source: PasswordSource, env: NodeJS.ProcessEnv = process.env): string {
  return readPasswordFrom(source, AGGREGATOR, env);
}

function writeNew(file: string, content: string): void {
  if (existsSync(file)) throw new AggregatorError('bad_config', `${file}: already exists; choose another path or remove it first (keys are never overwritten)`);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

/** `fast` lowers the KDF cost for tests and demos only. */
export async function createIdentityKey(file: string, password: string, opts: { fast?: boolean } = {}): Promise<{ publicKey: string }> {
  const seed = ed25519.utils.randomSecretKey();
  const pub = ed25519.getPublicKey(seed);
  const kdf = { function: 'scrypt' as const, params: { dklen: 32, n: opts.fast ? 1024 : 262_144, r: 8, p: 1, salt: randomBytes(32).toString('hex') } };
  const ks = await create(password, seed, pub, '', JSON.stringify({ kind: 'aegis-aggregator-identity' }), kdf);
  writeNew(file, JSON.stringify(ks, null, 2));
  return { publicKey: hexlify(pub) };
}

export async function loadIdentityKey(file: string, password: string): Promise<{ secret: Uint8Array; publicKey: string }> {
  let ks: IKeystore;
  try {
    ks = JSON.parse(readFileSync(file, 'utf8')) as IKeystore;
  } catch (err) {
    throw new AggregatorError('bad_config', `identity key ${file}: cannot read it as an EIP-2335 keystore (${(err as Error).message}); create one with \`aegis aggregator keys create\``);
  }
  let secret: Uint8Array;
  try {
    secret = await decrypt(ks, password);
  } catch (err) {
    throw new AggregatorError('bad_config', `identity key ${file}: cannot decrypt (${(err as Error).message}); check the password source`);
  }
  const pub = hexlify(ed25519.getPublicKey(secret));
  if (ks.pubkey && `0x${ks.pubkey}`.toLowerCase() !== pub.toLowerCase()) throw new AggregatorError('bad_config', `identity key ${file}: public key ${ks.pubkey} does not match the decrypted seed; the file is damaged`);
  return { secret, publicKey: pub };
}

export async function createTransmitterKey(file: string, password: string, opts: { fast?: boolean; privateKey?: string } = {}): Promise<{ address: string }> {
  const w = opts.privateKey ? new Wallet(opts.privateKey) : Wallet.createRandom();
  const json = await encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, password, opts.fast ? { scrypt: { N: 1024 } } : {});
  writeNew(file, json);
  return { address: w.address };
}

export async function loadTransmitterKey(file: string, password: string): Promise<Wallet> {
  let json: string;
  try {
    json = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AggregatorError('bad_config', `transmitter key ${file}: cannot read it (${(err as NodeJS.ErrnoException).code}); create one with \`aegis aggregator keys create\``);
  }
  try {
    const acct = await decryptKeystoreJson(json, password);
    return new Wallet(acct.privateKey);
  } catch (err) {
    throw new AggregatorError('bad_config', `transmitter key ${file}: cannot decrypt (${(err as Error).message}); check the password source`);
  }
}
