/**
 * The key that sends hub transactions: an Ethereum JSON keystore (Web3 Secret Storage) with its
 * password from a file or the environment, or a raw key in an environment variable. Never on
 * the command line, where every user of the machine can read it in the process list.
 */
import { readFileSync } from 'node:fs';
import { Wallet, type Provider } from 'ethers';

export interface TxKeyOptions {
  keystore?: string;
  passwordFile?: string;
  passwordEnv?: string;
  keyEnv?: string;
}

export async function loadTxKey(o: TxKeyOptions, provider: Provider, env: NodeJS.ProcessEnv = process.env): Promise<Wallet> {
  if (o.keyEnv) {
    const key = env[o.keyEnv];
    if (!key) throw new Error(`--key-env ${o.keyEnv}: the variable is not set; export it with the 0x-prefixed private key`);
    try {
      return new Wallet(key.trim(), provider);
    } catch {
      throw new Error(`--key-env ${o.keyEnv}: not a private key (expected 32 bytes of 0x-hex)`);
    }
  }
  if (!o.keystore) throw new Error('give the transaction key: --keystore FILE with --password-file F or --password-env VAR (an Ethereum JSON keystore), or --key-env VAR');
  let password: string;
  if (o.passwordFile) password = readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '');
  else if (o.passwordEnv) {
    const p = env[o.passwordEnv];
    if (p === undefined) throw new Error(`--password-env ${o.passwordEnv}: the variable is not set`);
    password = p;
  } else throw new Error(`--keystore ${o.keystore}: give --password-file F or --password-env VAR (never the password on the command line)`);
  let json: string;
  try {
    json = readFileSync(o.keystore, 'utf8');
  } catch (err) {
    throw new Error(`--keystore ${o.keystore}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const w = await Wallet.fromEncryptedJson(json, password);
    return new Wallet(w.privateKey, provider);
  } catch (err) {
    throw new Error(`--keystore ${o.keystore}: cannot decrypt it (${(err as Error).message}); check the password source`);
  }
}
