/**
 * The threat model names, for every capability it denies, the test that performs the attack.
 * This keeps the names true: every file it cites exists, and every test name it cites (a name
 * ending in … is a prefix) is the title of a test in that file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DOC = join(ROOT, 'docs', 'threat-model.md');

interface Citation {
  line: number;
  file: string;
  name?: string;
}

/** Every `file` and `› *name*` in the "shown by" column of the doc's capability tables. */
function citations(md: string): Citation[] {
  const out: Citation[] = [];
  let file: string | undefined;
  md.split('\n').forEach((row, k) => {
    if (!/^\| (CAN|CANNOT) /.test(row)) return;
    const cells = row.split(' | ');
    const shownBy = cells[cells.length - 1]!.replace(/\|\s*$/, '');
    // Walk the cell left to right: a `file` sets the current file; › *name* cites a test in it.
    const token = /`([^`]+\.test\.ts)`|› \*([^*]+)\*/g;
    for (let m = token.exec(shownBy); m; m = token.exec(shownBy)) {
      if (m[1]) {
        file = m[1].includes('/') ? m[1] : `test/adversarial/${m[1]}`;
        out.push({ line: k + 1, file });
      } else if (file) {
        out.push({ line: k + 1, file, name: m[2]!.trim() });
      } else {
        throw new Error(`docs/threat-model.md:${k + 1}: a test name before any file`);
      }
    }
  });
  return out;
}

describe('docs/threat-model.md cites tests that exist', () => {
  const cited = citations(readFileSync(DOC, 'utf8'));

  it('cites at least one test per denied capability', () => {
    const rows = readFileSync(DOC, 'utf8').split('\n').filter((r) => r.startsWith('| CANNOT '));
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) expect(r, r.slice(0, 120)).toMatch(/\.test\.ts`|› \*|same tests/);
  });

  it('every cited file exists and every cited test name is a test title in it', () => {
    const missing: string[] = [];
    for (const c of cited) {
      const path = join(ROOT, c.file);
      if (!existsSync(path)) {
        missing.push(`line ${c.line}: ${c.file} does not exist`);
        continue;
      }
      if (!c.name) continue;
      const source = readFileSync(path, 'utf8').replace(/\\'/g, "'");
      const prefix = c.name.replace(/\s*(…|\.\.\.)$/, '');
      if (!source.includes(`it('${prefix}`) && !source.includes(`it("${prefix}`) && !source.includes(`it(\`${prefix}`)) {
        missing.push(`line ${c.line}: ${c.file} has no test titled "${c.name}"`);
      }
    }
    expect(missing).toEqual([]);
  });
});
