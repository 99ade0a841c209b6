import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeZodError, keysAt, nearest } from '../../protocol/messages.ts';

const Schema = z.strictObject({
  listen: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number() }).optional(),
  feeds: z.array(z.strictObject({ name: z.string(), heartbeatSec: z.number() })),
  password: z.union([z.strictObject({ file: z.string() }), z.strictObject({ env: z.string() })]),
});

describe('describeZodError', () => {
  it('names the nearest allowed key of a misspelt one, at any depth, before the issues it causes', () => {
    const r = Schema.safeParse({ feeds: [{ name: 'BTC/USD', hearbeatSec: 1 }], lisen: { port: 1 }, password: { file: 'p' } });
    expect(r.success).toBe(false);
    const text = describeZodError(r.error!, Schema, { top: '(top level)' });
    expect(text.startsWith('feeds.0: unknown key "hearbeatSec" (did you mean "heartbeatSec"?); allowed here: name, heartbeatSec; (top level): unknown key "lisen" (did you mean "listen"?)')).toBe(true);
    expect(text).toContain('feeds.0.heartbeatSec:');
  });

  it('offers no guess for a key unlike any allowed one, and works without the schema', () => {
    const r = Schema.safeParse({ feeds: [], colour: 'red', password: { file: 'p' } });
    expect(describeZodError(r.error!, Schema, { top: '(top level)' })).toBe('(top level): unknown key "colour"; allowed here: listen, feeds, password');
    expect(describeZodError(r.error!)).toMatch(/^\(body\): Unrecognized key/);
  });

  it('finds the keys through optional, default, array and union members', () => {
    expect(keysAt(Schema, ['listen'])).toEqual(['host', 'port']);
    expect(keysAt(Schema, ['feeds', 0])).toEqual(['name', 'heartbeatSec']);
    expect(keysAt(Schema, ['password'])).toEqual(['file']);
    expect(keysAt(Schema, ['nope'])).toBeUndefined();
    expect(nearest('Port', ['host', 'port'])).toBe('port');
    expect(nearest('deviationPercent', ['deviationPct', 'heartbeatSec'])).toBe('deviationPct');
    expect(nearest('x', ['host', 'port'])).toBeUndefined();
  });
});
