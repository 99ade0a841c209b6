/**
 * The shared process plumbing of `runtime/`: the coded error and its one-line form, password
 * sources, HTTP error answers, the piped-table style and the CLI failure path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { cliAction, exitWith, plainLine, runOrExit } from '../../runtime/cli-action.ts';
import { plainWhenPiped } from '../../runtime/cli-table.ts';
import { CodedError, errorLine } from '../../runtime/coded-error.ts';
import { errorBody, HttpError, sendError } from '../../runtime/http-errors.ts';
import { readPassword, type PasswordReader } from '../../runtime/password.ts';
import { AggregatorError } from '../../aggregator/errors.ts';
import { readPassword as aggregatorPassword } from '../../aggregator/keys.ts';
import { NodeError } from '../../node/errors.ts';
import { KeystoreError, readPassword as nodePassword } from '../../node/keys/index.ts';
import { DkgRequestError } from '../../node/dkg/approvals.ts';
import { SourceError } from '../../node/sources/errors.ts';
import { AnvilError } from '../../contracts/anvil.ts';
import { HubConfigError } from '../../contracts/ops/hub-config.ts';
import { ScenarioError } from '../../sim/scenario/load.ts';

describe('CodedError', () => {
  it('carries a code, and appends a fix given apart as "; <fix>"', () => {
    const plain = new CodedError('bad_thing', 'thing x: broken; mend it');
    expect(plain).toBeInstanceOf(Error);
    expect([plain.code, plain.message, plain.fix, 'fix' in plain]).toEqual(['bad_thing', 'thing x: broken; mend it', undefined, false]);
    const cause = new Error('EACCES');
    const split = new CodedError('bad_thing', 'thing x: broken', { fix: 'mend it', cause });
    expect([split.message, split.fix, split.cause]).toEqual(['thing x: broken; mend it', 'mend it', cause]);
  });

  it('is the base of every process error, which keeps its own name and code', () => {
    const n = new NodeError('config_invalid', 'config node.yaml: listen.port: expected a number');
    const a = new AggregatorError('bad_config', 'x');
    const k = new KeystoreError('wrong_password', 'y', { cause: 1 });
    expect([n, a, k].every((e) => e instanceof CodedError)).toBe(true);
    expect([n.name, a.name, k.name]).toEqual(['NodeError', 'AggregatorError', 'KeystoreError']);
    expect(k.cause).toBe(1);
    expect('cause' in a).toBe(false);
    const others = [
      new SourceError('timeout', 'no answer in 2000 ms', { source: 'binance', feed: 'BTC/USD' }),
      new AnvilError('anvil exited'),
      new HubConfigError('hub.yaml: feeds: required'),
      new ScenarioError('scenario_invalid', 'scenario x: bad', ['a']),
    ];
    expect(others.map((e) => [e instanceof CodedError, e.name, e.code])).toEqual([
      [true, 'SourceError', 'source_timeout'],
      [true, 'AnvilError', 'anvil_failed'],
      [true, 'HubConfigError', 'bad_hub_config'],
      [true, 'ScenarioError', 'scenario_invalid'],
    ]);
    expect(others[0]!.message).toBe('source binance: no answer in 2000 ms (BTC/USD); excluded from this round');
  });

  it('prints as one line, with the code only when there is a string one', () => {
    expect(errorLine(new NodeError('config_invalid', 'config a.yaml: t: must exceed n/2; raise it'))).toBe('error (config_invalid): config a.yaml: t: must exceed n/2; raise it');
    expect(errorLine(Object.assign(new Error('open x'), { code: 'ENOENT' }))).toBe('error (ENOENT): open x');
    expect(errorLine(Object.assign(new Error('m'), { code: 3 }))).toBe('error: m');
    expect(errorLine(new Error('plain'))).toBe('error: plain');
    expect(errorLine('a string')).toBe('error: a string');
    expect(errorLine(null)).toBe('error: null');
    expect(plainLine(new NodeError('config_invalid', 'no code here'))).toBe('error: no code here');
  });
});

describe('readPassword', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-runtime-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const reader: PasswordReader = { process: 'the test', error: (m, o) => new CodedError('no_password', m, o) };
  const failure = (f: () => unknown): CodedError => {
    try {
      f();
    } catch (err) {
      return err as CodedError;
    }
    throw new Error('expected a throw');
  };

  it('reads a file without its one trailing newline, or a variable', () => {
    writeFileSync(join(dir, 'pw'), 'hunter2\n');
    writeFileSync(join(dir, 'pw2'), 'two\n\n');
    expect(readPassword({ file: join(dir, 'pw') }, reader)).toBe('hunter2');
    expect(readPassword({ file: join(dir, 'pw2') }, reader)).toBe('two\n');
    expect(readPassword({ env: 'PW' }, reader, { PW: 's3cret' })).toBe('s3cret');
  });

  it('names the source and the fix when it cannot', () => {
    const missing = failure(() => readPassword({ file: join(dir, 'nope') }, reader));
    expect(missing.message).toBe(`password file ${join(dir, 'nope')}: cannot read it (ENOENT); create it or fix the path`);
    expect((missing.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(failure(() => readPassword({ env: 'PW' }, reader, {})).message).toBe('password environment variable PW is not set; export it before starting the test');
    writeFileSync(join(dir, 'empty'), '\n');
    expect(failure(() => readPassword({ file: join(dir, 'empty') }, reader)).message).toBe(`password file ${join(dir, 'empty')} is empty; a keystore needs a non-empty password`);
  });

  it('fails with each process\'s own error', () => {
    const n = failure(() => nodePassword({ env: 'PW' }, {}));
    expect([n.name, n.code, n.message]).toEqual(['KeystoreError', 'password_unavailable', 'password environment variable PW is not set; export it before starting the node']);
    const a = failure(() => aggregatorPassword({ env: 'PW' }, { PW: '' }));
    expect([a.name, a.code, a.message]).toEqual(['AggregatorError', 'bad_config', 'password environment variable PW is empty; a keystore needs a non-empty password']);
    expect(failure(() => aggregatorPassword({ env: 'PW' }, {})).message).toMatch(/before starting the aggregator$/);
  });
});

describe('HTTP error answers', () => {
  it('answer { error: { code, message } } with the status', () => {
    const sent: unknown[] = [];
    const res = { status: (s: number) => ({ json: (b: unknown) => sent.push([s, JSON.stringify(b)]) }) };
    sendError(res, 404, 'not_found', 'GET /x: no such endpoint');
    expect(sent).toEqual([[404, '{"error":{"code":"not_found","message":"GET /x: no such endpoint"}}']]);
    expect(errorBody('a', 'b')).toEqual({ error: { code: 'a', message: 'b' } });
  });

  it('HttpError carries status and code; the DKG refusal is one', () => {
    const e = new DkgRequestError(403, 'unknown_key', 'key 0xab is not a coordinator');
    expect(e).toBeInstanceOf(HttpError);
    expect(e).toBeInstanceOf(CodedError);
    expect([e.name, e.status, e.code, e.message]).toEqual(['DkgRequestError', 403, 'unknown_key', 'key 0xab is not a coordinator']);
  });
});

describe('CLI plumbing', () => {
  afterEach(() => vi.restoreAllMocks());

  it('tables are plain when stdout is not a terminal', () => {
    expect(plainWhenPiped({ isTTY: true })).toEqual({});
    expect(plainWhenPiped({})).toEqual({ style: { head: [], border: [] } });
  });

  it('a failing action prints one line and exits 1; a passing one does neither', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (writes.push(String(s)), true));
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    await cliAction(async (_a: string) => {})('x');
    expect([writes, exit.mock.calls]).toEqual([[], []]);
    await cliAction(async () => {
      throw new NodeError('config_invalid', 'config n.yaml: bad; fix it');
    })();
    await runOrExit(async () => {
      throw new Error('boom');
    }, plainLine);
    exitWith(new CodedError('c', 'm'), (e) => `custom ${(e as Error).message}`);
    expect(writes).toEqual(['error (config_invalid): config n.yaml: bad; fix it\n', 'error: boom\n', 'custom m\n']);
    expect(exit.mock.calls).toEqual([[1], [1], [1]]);
  });
});
