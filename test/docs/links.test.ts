/**
 * The docs stay navigable: every relative link in every tracked Markdown file resolves (the file
 * or folder exists; a `#anchor` names a heading of the target, by GitHub's slug rules), and every
 * command in a fenced `sh` block of the README names an npm script of package.json or an `aegis`
 * CLI subcommand that exists (read from the commander program's own `--help`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Markdown with fenced code blocks and inline code spans blanked (links there are examples). */
function prose(md: string): string {
  let fenced = false;
  return md
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line.replace(/`+[^`]*`+/g, (m) => ' '.repeat(m.length));
    })
    .join('\n');
}

/** GitHub's heading slug: lower-case, punctuation dropped (letters, digits, `_`, `-` and spaces kept), spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file offers: heading slugs (repeats get -1, -2, …) and HTML ids/names. */
function anchorsOf(md: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]!);
  }
  return out;
}

interface Link {
  line: number;
  target: string;
}

/** Inline links and images `[x](target)` and reference definitions `[x]: target`, outside code. */
function linksOf(md: string): Link[] {
  const out: Link[] = [];
  prose(md)
    .split('\n')
    .forEach((text, k) => {
      for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line: k + 1, target: m[1]! });
      const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
      if (def) out.push({ line: k + 1, target: def[1]! });
    });
  return out;
}

/** Why `link` in the Markdown file `file` (absolute) does not resolve, or undefined when it does. */
function brokenLink(file: string, link: Link, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string | undefined {
  const { target } = link;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:, …: not relative
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const dest = pathPart === '' ? file : pathPart.startsWith('/') ? join(ROOT, pathPart) : resolve(dirname(file), pathPart);
  const where = `${relative(ROOT, file)}:${link.line}: ${target}`;
  if (!existsSync(dest)) return `${where}: ${relative(ROOT, dest)} does not exist`;
  if (anchor === undefined || anchor === '' || statSync(dest).isDirectory() || !dest.endsWith('.md')) return undefined;
  const anchors = anchorsOf(read(dest));
  if (!anchors.has(anchor)) return `${where}: no heading with anchor #${anchor} in ${relative(ROOT, dest)}`;
  return undefined;
}

/** The heading texts of a Markdown file, rendered (links and code marks dropped). */
function headingsOf(md: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) out.push(h[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '').trim());
  }
  return out;
}

/**
 * Why a section citation `<file>.md §<text>` (in a comment, a message or a doc) names no heading
 * of that file, or undefined. The cited text must start with a heading, its parenthesised
 * remark left out ("§Config reference" cites "Config reference (node.yaml)"), followed by
 * anything but a letter or digit ("§Round protocol, step 2").
 */
function brokenSectionCitation(cited: string, headings: readonly string[]): string | undefined {
  const ok = headings.some((h) => {
    const name = h.replace(/\s*\([^)]*\)\s*$/, '').trim();
    return name !== '' && cited.startsWith(name) && !/^[\p{L}\p{N}]/u.test(cited.slice(name.length));
  });
  return ok ? undefined : `§${cited.slice(0, 40)}: no such section (sections: ${headings.join(' | ').slice(0, 300)})`;
}

function trackedMarkdown(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', '*.md'], { cwd: ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)))
    .map((f) => join(ROOT, f));
}

// ---------------------------------------------------------------------------------------------
// README commands

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const NPM_BUILTINS = new Set(['install', 'ci', 'i']);
const AEGIS_SCRIPT = /^tsx scripts\/aegis\.ts((?:\s+[^\s-][^\s]*)*)\s*$/;

const helpCache = new Map<string, string[] | Error>();
/** The subcommands of `aegis <path>` as its commander `--help` lists them. */
function subcommandsOf(path: string[]): string[] {
  const key = path.join(' ');
  let hit = helpCache.get(key);
  if (!hit) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/aegis.ts'), ...path, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) hit = new Error(`aegis ${key} --help exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
    else {
      const at = r.stdout.indexOf('\nCommands:\n');
      hit = at < 0 ? [] : r.stdout.slice(at + 11).split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/[\s|]/)[0]!).filter((c) => c !== 'help');
    }
    helpCache.set(key, hit);
  }
  if (hit instanceof Error) throw hit;
  return hit;
}

/** Why an `aegis` argument list names no command, or undefined when every subcommand exists. */
function unknownAegisCommand(args: string[], subcommands: (path: string[]) => string[] = subcommandsOf): string | undefined {
  const path: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-')) break;
    const subs = subcommands(path);
    if (subs.length === 0) break; // a leaf command: the rest are its arguments
    if (!subs.includes(arg)) return `aegis ${[...path, arg].join(' ')}: no such command (aegis ${path.join(' ')}${path.length ? ' ' : ''}has: ${subs.join(', ')})`;
    path.push(arg);
  }
  return undefined;
}

/** Why one shell command of the README names nothing that exists, or undefined. */
function unknownCommand(command: string, scripts: Record<string, string> = pkg.scripts, subcommands: (path: string[]) => string[] = subcommandsOf): string | undefined {
  const words = command.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return undefined;
  const [head, ...rest] = words;
  if (head === 'npm') {
    const args = rest.filter((w) => w !== '-s' && w !== '--silent');
    const verb = args[0];
    if (verb && NPM_BUILTINS.has(verb)) return undefined;
    if (verb === 'test') return scripts.test ? undefined : `${command}: package.json has no "test" script`;
    if (verb !== 'run' && verb !== 'run-script') return `${command}: not an npm script invocation (npm run <script>, npm test, npm install)`;
    const name = args[1];
    if (!name || !(name in scripts)) return `${command}: package.json has no script "${name}" (it has: ${Object.keys(scripts).join(', ')})`;
    const aegis = AEGIS_SCRIPT.exec(scripts[name]!);
    if (!aegis) return undefined;
    const dash = args.indexOf('--');
    return unknownAegisCommand([...aegis[1]!.trim().split(/\s+/).filter(Boolean), ...(dash < 0 ? [] : args.slice(dash + 1))], subcommands);
  }
  if (head === 'npx' && rest[0] === 'aegis') return unknownAegisCommand(rest.slice(1), subcommands);
  if (head === 'npx' && rest[0] === 'tsx' && rest[1] === 'scripts/aegis.ts') return unknownAegisCommand(rest.slice(2), subcommands);
  if (head === 'aegis') return unknownAegisCommand(rest, subcommands);
  return `${command}: neither an npm script nor an aegis command`;
}

/** The commands of the `sh` blocks of a Markdown text: one per line, split at `&&`, `||`, `;` and `|`, comments dropped. */
function shCommands(md: string): string[] {
  const out: string[] = [];
  let inSh = false;
  for (const line of md.split('\n')) {
    const fence = /^\s*```(\S*)/.exec(line);
    if (fence) {
      inSh = !inSh && (fence[1] === 'sh' || fence[1] === 'bash' || fence[1] === 'shell');
      continue;
    }
    if (!inSh) continue;
    const code = line.replace(/(^|\s)#.*$/, '').trim();
    for (const part of code.split(/&&|\|\||;|\|/)) if (part.trim()) out.push(part.trim());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('Markdown links', () => {
  const files = trackedMarkdown();

  it('finds the tracked Markdown files and their links', () => {
    expect(files.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(['README.md', 'docs/design.md']));
    expect(files.reduce((n, f) => n + linksOf(readFileSync(f, 'utf8')).length, 0)).toBeGreaterThan(50);
  });

  it('every relative link resolves to a file and every #anchor to a heading', () => {
    const broken: string[] = [];
    for (const f of files) {
      for (const link of linksOf(readFileSync(f, 'utf8'))) {
        const why = brokenLink(f, link);
        if (why) broken.push(why);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the checker reports a missing file, a missing anchor, and follows GitHub slugs', () => {
    const doc = join(ROOT, 'docs', 'design.md');
    const md = '# Top\n## Config reference (`node.yaml`)\n## Top\n```sh\n# not a heading\n```\n<a name="custom"></a>\n';
    const read = () => md;
    expect([...anchorsOf(md)]).toEqual(['top', 'config-reference-nodeyaml', 'top-1', 'custom']);
    expect(slug('Resharing (members added or removed, `t` changed; same group key)')).toBe('resharing-members-added-or-removed-t-changed-same-group-key');
    expect(slug('Running an aggregator — standbys, §5')).toBe('running-an-aggregator--standbys-5');
    expect(brokenLink(doc, { line: 1, target: 'no-such-guide.md' }, read)).toMatch(/docs\/no-such-guide\.md does not exist/);
    expect(brokenLink(doc, { line: 1, target: 'design.md#no-such-heading' }, read)).toMatch(/no heading with anchor #no-such-heading/);
    expect(brokenLink(doc, { line: 1, target: '#config-reference-nodeyaml' }, read)).toBeUndefined();
    expect(brokenLink(doc, { line: 1, target: '#top-1' }, read)).toBeUndefined();
    expect(brokenLink(doc, { line: 1, target: 'https://example.org/x.md#y' }, read)).toBeUndefined();
    expect(linksOf('see [a](a.md), `[b](b.md)` and ![c](img/c.svg "t")\n```\n[d](d.md)\n```\n[e]: e.md\n').map((l) => l.target)).toEqual(['a.md', 'img/c.svg', 'e.md']);
  });
});

describe('README sh commands', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('every command names an npm script or an aegis subcommand that exists', () => {
    const commands = shCommands(readme);
    expect(commands).toEqual(expect.arrayContaining(['npm install', 'npm run demo', 'npm test']));
    expect(commands.map((c) => unknownCommand(c)).filter(Boolean)).toEqual([]);
  }, 180_000);

  it('the checker names an unknown script, an unknown subcommand and a foreign command', () => {
    const subs = (path: string[]) => (path.length === 0 ? ['node', 'sim'] : path[0] === 'sim' && path.length === 1 ? ['run', 'list'] : []);
    const scripts = { test: 'vitest run', demo: 'tsx scripts/demo.ts', sim: 'tsx scripts/aegis.ts sim' };
    expect(unknownCommand('npm run demo', scripts, subs)).toBeUndefined();
    expect(unknownCommand('npm run sim -- run dai-coinbase-spike --seed 3', scripts, subs)).toBeUndefined();
    expect(unknownCommand('npx aegis sim list', scripts, subs)).toBeUndefined();
    expect(unknownCommand('npx aegis --help', scripts, subs)).toBeUndefined();
    expect(unknownCommand('npm run demoo', scripts, subs)).toMatch(/no script "demoo"/);
    expect(unknownCommand('npm run sim -- sweep pump-grid', scripts, subs)).toMatch(/aegis sim sweep: no such command/);
    expect(unknownCommand('npx aegis aggregator start', scripts, subs)).toMatch(/aegis aggregator: no such command/);
    expect(unknownCommand('make all', scripts, subs)).toMatch(/neither an npm script nor an aegis command/);
    expect(shCommands('```sh\nnpm install && npm run demo   # the demo\n```\n```yaml\nnpm run nope\n```\n')).toEqual(['npm install', 'npm run demo']);
  });
});

describe('section citations (docs/<file>.md §<heading>)', () => {
  it('every citation in code, tests and docs names a heading of the cited file', () => {
    const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.tsx', '*.sol', '*.md'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)));
    const broken: string[] = [];
    let count = 0;
    for (const f of files) {
      readFileSync(join(ROOT, f), 'utf8').split('\n').forEach((line, k) => {
        for (const m of line.matchAll(/([\w./-]+\.md)`? §([^\n]*)/g)) {
          const [, target, cited] = m as unknown as [string, string, string];
          if (cited.startsWith('<')) continue; // the convention's own placeholder
          const dest = [join(ROOT, target), resolve(dirname(join(ROOT, f)), target)].find((p) => existsSync(p));
          count++;
          if (!dest) {
            broken.push(`${f}:${k + 1}: ${target} does not exist`);
            continue;
          }
          const why = brokenSectionCitation(cited, headingsOf(readFileSync(dest, 'utf8')));
          if (why) broken.push(`${f}:${k + 1}: ${target} ${why}`);
        }
      });
    }
    expect(count).toBeGreaterThan(30);
    expect(broken).toEqual([]);
  });

  it('the checker accepts a heading with its remark left out and refuses a renamed one', () => {
    const hs = ['Round protocol', 'Config reference (node.yaml)', 'Hub'];
    expect(brokenSectionCitation('Round protocol, step 2: …', hs)).toBeUndefined();
    expect(brokenSectionCitation('Config reference for every field', hs)).toBeUndefined();
    expect(brokenSectionCitation('Hub)', hs)).toBeUndefined();
    expect(brokenSectionCitation('Hubs and spokes', hs)).toMatch(/no such section/);
    expect(brokenSectionCitation('The round protocol', hs)).toMatch(/no such section/);
  });
});
