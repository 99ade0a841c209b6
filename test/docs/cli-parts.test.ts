/**
 * `aegis --help` lists the commands from scripts/cli-parts.ts without loading the parts; each
 * part must register exactly those top-level commands with those descriptions, or the list
 * would lie (a command missing from it could not be reached at all).
 */
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PARTS } from '../../scripts/cli-parts.ts';

describe('aegis command-line parts', () => {
  it.each(PARTS.map((p) => [Object.keys(p.commands).join(', '), p] as const))('%s: registers exactly the listed commands', async (_name, part) => {
    const program = new Command('aegis');
    (await part.load())(program);
    expect(Object.fromEntries(program.commands.map((c) => [c.name(), c.description()]))).toEqual(part.commands);
  });

  it('no two parts claim one command', () => {
    const names = PARTS.flatMap((p) => Object.keys(p.commands));
    expect(new Set(names).size).toBe(names.length);
  });
});
