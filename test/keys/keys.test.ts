import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { dealerKeygen, scalarToBytes } from '../../protocol/index.ts';
import {
  KeystoreError,
  createIdentity,
  createSoloBlsKey,
  importBlsShare,
  importIdentity,
  inspectBlsShare,
  inspectKeystore,
  loadBlsShare,
  loadIdentity,
  readPassword,
  type KdfChoice,
} from '../../node/keys/index.ts';

// Cheap KDF so the suite stays fast; production uses DEFAULT_KDF (scrypt n=2^18).
const kdf: KdfChoice = { function: 'pbkdf2', c: 16 };
const password = 'correct horse battery staple';
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-keys-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function expectKeystoreError(promise: Promise<unknown> | (() => unknown), code: string, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(KeystoreError);
  expect((error as KeystoreError).code).toBe(code);
  expect((error as KeystoreError).message).toMatch(message);
}

const committee = dealerKeygen(3, 4);
const share = committee.shares[1]!;
const info = { index: share.index, n: 4, t: 3, groupPublicKey: hex(committee.groupPublicKey) };

describe('BLS share keystore', () => {
  it('round-trips an imported dealer share with its committee info', async () => {
    const file = join(tempDir(), 'share.json');
    const written = await importBlsShare(file, hex(scalarToBytes(share.secret)), info, { password, kdf });
    expect(written).toEqual({ file, ...info, publicShare: hex(committee.publicShares[1]!) });
    const loaded = await loadBlsShare(file, password);
    expect(loaded.share).toEqual(share);
    expect(loaded.publicShare).toBe(hex(committee.publicShares[1]!));
    expect(inspectBlsShare(file)).toEqual(written);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toMatchObject({ version: 4, path: '' });
    expect(json.crypto.kdf.function).toBe('pbkdf2');
    expect(JSON.stringify(json)).not.toContain(share.secret.toString(16));
  });

  it('creates a solo key whose group key is its own public key', async () => {
    const file = join(tempDir(), 'solo.json');
    const solo = await createSoloBlsKey(file, { password, kdf });
    expect(solo).toMatchObject({ index: 1, n: 1, t: 1 });
    expect(solo.groupPublicKey).toBe(solo.publicShare);
    expect((await loadBlsShare(file, password)).share.index).toBe(1);
  });

  it('uses scrypt as the default KDF', async () => {
    const file = join(tempDir(), 'scrypt.json');
    await createSoloBlsKey(file, { password });
    expect(inspectKeystore(file)).toMatchObject({ kind: 'bls-share', kdf: 'scrypt' });
  });

  it('refuses bad secrets and bad committee info with the reason', async () => {
    const dir = tempDir();
    const r = '0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001';
    await expectKeystoreError(importBlsShare(join(dir, 'a.json'), r, info, { password, kdf }), 'invalid_secret', /not a valid non-zero scalar mod r/);
    await expectKeystoreError(importBlsShare(join(dir, 'b.json'), '0x1234', info, { password, kdf }), 'invalid_secret', /expected 32 bytes as 64 hex digits/);
    const secret = hex(scalarToBytes(share.secret));
    await expectKeystoreError(importBlsShare(join(dir, 'c.json'), secret, { ...info, index: 5 }, { password, kdf }), 'invalid_share_info', /share index 5: must be an integer from 1 to n=4/);
    await expectKeystoreError(importBlsShare(join(dir, 'd.json'), secret, { ...info, t: 2 }, { password, kdf }), 'invalid_share_info', /threshold t=2: must exceed n\/2/);
    await expectKeystoreError(
      importBlsShare(join(dir, 'e.json'), secret, { ...info, groupPublicKey: `0x${'00'.repeat(96)}` }, { password, kdf }),
      'invalid_share_info',
      /group public key/,
    );
    expect(readdirSync(dir)).toEqual([]); // nothing half-written
  });
});

describe('identity keystore', () => {
  it('round-trips a created key and signs with it', async () => {
    const file = join(tempDir(), 'identity.json');
    const created = await createIdentity(file, { password, kdf });
    const loaded = await loadIdentity(file, password);
    expect(loaded.publicKey).toBe(created.publicKey);
    const msg = new TextEncoder().encode('observation');
    expect(ed25519.verify(ed25519.sign(msg, loaded.secretKey), msg, Buffer.from(created.publicKey.slice(2), 'hex'))).toBe(true);
    expect(inspectKeystore(file)).toMatchObject({ kind: 'ed25519-identity', publicKey: created.publicKey, kdf: 'pbkdf2' });
  });

  it('imports a known seed (RFC 8032 test 1)', async () => {
    const file = join(tempDir(), 'identity.json');
    const seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
    const imported = await importIdentity(file, seed, { password, kdf });
    expect(imported.publicKey).toBe('0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(hex((await loadIdentity(file, password)).secretKey)).toBe(`0x${seed}`);
  });
});

describe('keystore failures', () => {
  it('names the file on a wrong password', async () => {
    const file = join(tempDir(), 'identity.json');
    await createIdentity(file, { password, kdf });
    await expectKeystoreError(loadIdentity(file, 'wrong'), 'wrong_password', new RegExp(`keystore ${file}: wrong password`));
  });

  it('names the file and the problem for truncated or edited files', async () => {
    const dir = tempDir();
    const file = join(dir, 'share.json');
    await importBlsShare(file, hex(scalarToBytes(share.secret)), info, { password, kdf });
    const text = readFileSync(file, 'utf8');

    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, text.slice(0, text.length / 2));
    await expectKeystoreError(loadBlsShare(truncated, password), 'damaged_keystore', new RegExp(`keystore ${truncated} is damaged: not valid JSON .*truncated\\?`));

    const json = JSON.parse(text);
    const noCipher = join(dir, 'no-cipher.json');
    writeFileSync(noCipher, JSON.stringify({ ...json, crypto: { ...json.crypto, cipher: { ...json.crypto.cipher, message: 'zz' } } }));
    await expectKeystoreError(() => inspectKeystore(noCipher), 'damaged_keystore', /crypto\.cipher\.message: expected 32-byte hex/);

    const otherKey = join(dir, 'other-pubkey.json');
    writeFileSync(otherKey, JSON.stringify({ ...json, pubkey: Buffer.from(committee.publicShares[0]!).toString('hex') }));
    await expectKeystoreError(loadBlsShare(otherKey, password), 'damaged_keystore', /pubkey does not match the decrypted secret/);

    const badDescription = join(dir, 'bad-description.json');
    writeFileSync(badDescription, JSON.stringify({ ...json, description: 'my validator key' }));
    await expectKeystoreError(() => inspectKeystore(badDescription), 'damaged_keystore', /description is not an Aegis key description/);
  });

  it('refuses the wrong kind of key, a missing file and overwriting', async () => {
    const dir = tempDir();
    const file = join(dir, 'identity.json');
    await createIdentity(file, { password, kdf });
    await expectKeystoreError(loadBlsShare(file, password), 'wrong_kind', /holds a key of kind ed25519-identity\/v1, not bls-share\/v1/);
    await expectKeystoreError(loadIdentity(join(dir, 'missing.json'), password), 'not_found', /missing\.json does not exist/);
    const before = readFileSync(file, 'utf8');
    await expectKeystoreError(createIdentity(file, { password, kdf }), 'already_exists', /already exists; refusing to overwrite/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['identity.json']); // no temp file left behind
  });
});

describe('file permissions and atomic writes', () => {
  it('writes keystores with mode 0600 whatever the umask', async () => {
    const dir = tempDir();
    const old = process.umask(0o000);
    try {
      await createIdentity(join(dir, 'identity.json'), { password, kdf });
      await importBlsShare(join(dir, 'share.json'), hex(scalarToBytes(share.secret)), info, { password, kdf });
    } finally {
      process.umask(old);
    }
    for (const name of ['identity.json', 'share.json']) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['identity.json', 'share.json']);
  });

  it('reports an unwritable directory', async () => {
    await expectKeystoreError(createIdentity('/nonexistent-dir/identity.json', { password, kdf }), 'write_failed', /cannot write it \(ENOENT\); check that \/nonexistent-dir exists/);
  });
});

describe('readPassword', () => {
  it('reads a file without its trailing newline, or an environment variable', () => {
    const file = join(tempDir(), 'pw');
    writeFileSync(file, 'secret pw\n');
    expect(readPassword({ file })).toBe('secret pw');
    expect(readPassword({ env: 'AEGIS_PW' }, { AEGIS_PW: 'from env' })).toBe('from env');
  });

  it('says which source is missing or empty', () => {
    const dir = tempDir();
    expect(() => readPassword({ env: 'AEGIS_PW' }, {})).toThrowError(/password environment variable AEGIS_PW is not set/);
    expect(() => readPassword({ file: join(dir, 'nope') })).toThrowError(/password file .*nope: cannot read it \(ENOENT\)/);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => readPassword({ file: join(dir, 'empty') })).toThrowError(expect.objectContaining({ code: 'password_unavailable' }));
  });
});
