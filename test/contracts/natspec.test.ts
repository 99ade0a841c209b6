/**
 * Every product contract documents its boundary (docs/contracts.md, "Sources"): each external or
 * public function (public state variables included: they are getters), custom error and event of
 * `contracts/src/**` has a `@notice` or `@dev`, and each parameter of those functions, errors and
 * events has a `@param`. The check reads solc's AST of the product sources, following
 * `@inheritdoc` and the implicit inheritance solc applies to an undocumented override, so an
 * implementation documented in its interface passes. A failure names the file, the line, the
 * definition and the missing tag; the fix is the NatSpec, in the interface when there is one.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, SOLC_SETTINGS, SOURCES_DIR, findImport } from '../../contracts/compile.ts';

const require = createRequire(import.meta.url);

interface AstNode {
  id: number;
  nodeType: string;
  src: string;
  name?: string;
  kind?: string;
  visibility?: string;
  stateVariable?: boolean;
  functionSelector?: string;
  baseFunctions?: number[];
  documentation?: { text: string } | null;
  parameters?: { parameters: AstNode[] };
  nodes?: AstNode[];
  [k: string]: unknown;
}

interface Doc {
  notice: string;
  dev: string;
  params: Map<string, string>;
  inheritdoc?: string;
}

/** NatSpec text split into its tags; untagged leading text is `@notice`, as solc reads it. */
function parseDoc(text: string | undefined): Doc | undefined {
  if (text === undefined) return undefined;
  const doc: Doc = { notice: '', dev: '', params: new Map() };
  let tag = 'notice';
  let buf = '';
  const flush = () => {
    const body = buf.trim();
    if (tag === 'notice') doc.notice = `${doc.notice} ${body}`.trim();
    else if (tag === 'dev') doc.dev = `${doc.dev} ${body}`.trim();
    else if (tag === 'param') {
      const [name = '', ...rest] = body.split(/\s+/);
      if (name) doc.params.set(name, rest.join(' '));
    } else if (tag === 'inheritdoc') doc.inheritdoc = body;
    buf = '';
  };
  for (const line of text.split('\n')) {
    const m = /^\s*@(\S+)\s*(.*)$/.exec(line);
    if (m) {
      flush();
      tag = m[1]!;
      buf = m[2]!;
    } else buf += ` ${line}`;
  }
  flush();
  return doc;
}

/**
 * The NatSpec gaps of `sources` (unit name → content), one line each:
 * `<unit>:<line> <Contract>.<name> (<kind>): <what is missing>`. Only the units `check`
 * accepts are checked; the others (imports) only resolve `@inheritdoc` and overrides.
 */
export function natspecGaps(sources: Record<string, string>, check: (unit: string) => boolean = () => true): string[] {
  const solc = require('solc') as { compile(input: string, cb: { import: typeof findImport }): string };
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.keys(sources).sort().map((n) => [n, { content: sources[n] }])),
    // The same compiler settings; only the AST is asked for, so solc analyses and generates no code.
    settings: { ...SOLC_SETTINGS, outputSelection: { '*': { '': ['ast'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    sources: Record<string, { ast: AstNode }>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);

  const byId = new Map<number, AstNode>();
  const contractsByName = new Map<string, AstNode>();
  const unitOfFile = new Map<number, string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const node = n as AstNode;
    if (typeof node.id === 'number' && typeof node.nodeType === 'string') byId.set(node.id, node);
    if (node.nodeType === 'ContractDefinition' && node.name) contractsByName.set(node.name, node);
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v);
  };
  for (const [unit, { ast }] of Object.entries(out.sources)) {
    unitOfFile.set(Number(ast.src.split(':')[2]), unit);
    walk(ast);
  }

  /**
   * The documentation solc attaches to `node`: its own, merged over `@inheritdoc` or the
   * overridden base's. Inherited `@param`s are matched by position, so an implementation may
   * rename a parameter (`paused_` for the interface's `paused`).
   */
  const resolved = (node: AstNode, depth = 0): Doc | undefined => {
    const own = parseDoc(node.documentation?.text);
    let baseNode: AstNode | undefined;
    if (own?.inheritdoc) {
      const from = contractsByName.get(own.inheritdoc);
      baseNode = from?.nodes?.find((m) => m.name === node.name && m.functionSelector !== undefined && m.functionSelector === node.functionSelector);
    } else if (!own && node.baseFunctions?.length) baseNode = byId.get(node.baseFunctions[0]!);
    const inherited = baseNode && depth < 16 ? resolved(baseNode, depth + 1) : undefined;
    if (!inherited) return own;
    const ownNames = (node.parameters?.parameters ?? []).map((p) => p.name);
    const params = new Map<string, string>();
    (baseNode!.parameters?.parameters ?? []).forEach((p, i) => {
      const text = p.name ? inherited.params.get(p.name) : undefined;
      if (text && ownNames[i]) params.set(ownNames[i]!, text);
    });
    if (!own) return { ...inherited, params };
    return { notice: own.notice || inherited.notice, dev: own.dev || inherited.dev, params: new Map([...params, ...own.params]) };
  };

  const gaps: string[] = [];
  const report = (unit: string, node: AstNode, owner: string, what: string, kind: string): void => {
    const start = Number(node.src.split(':')[0]);
    const line = sources[unit]!.slice(0, start).split('\n').length;
    gaps.push(`${unit}:${line} ${owner}${node.name ?? ''} (${kind}): ${what}`);
  };
  const checkDefinition = (unit: string, node: AstNode, owner: string, kind: string): void => {
    const doc = resolved(node);
    if (!doc || (!doc.notice && !doc.dev)) report(unit, node, owner, 'no @notice or @dev', kind);
    (node.parameters?.parameters ?? []).forEach((p, i) => {
      if (!p.name) report(unit, node, owner, `parameter ${i + 1} has no name, so no @param can document it`, kind);
      else if (!doc?.params.get(p.name)) report(unit, node, owner, `no @param for ${p.name}`, kind);
    });
  };
  for (const [unit, { ast }] of Object.entries(out.sources)) {
    if (!check(unit)) continue;
    for (const top of ast.nodes ?? []) {
      if (top.nodeType === 'ErrorDefinition') checkDefinition(unit, top, '', 'error');
      if (top.nodeType === 'EventDefinition') checkDefinition(unit, top, '', 'event');
      if (top.nodeType !== 'ContractDefinition') continue;
      const owner = `${top.name}.`;
      for (const m of top.nodes ?? []) {
        if (m.nodeType === 'ErrorDefinition') checkDefinition(unit, m, owner, 'error');
        else if (m.nodeType === 'EventDefinition') checkDefinition(unit, m, owner, 'event');
        else if (m.nodeType === 'FunctionDefinition' && m.kind === 'function' && (m.visibility === 'external' || m.visibility === 'public')) checkDefinition(unit, m, owner, 'function');
        else if (m.nodeType === 'VariableDeclaration' && m.stateVariable && m.visibility === 'public') checkDefinition(unit, m, owner, 'public variable');
      }
    }
  }
  return gaps;
}

function productSources(): Record<string, string> {
  const sources: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry.endsWith('.sol')) sources[relative(join(ROOT, 'contracts'), p).split(sep).join('/')] = readFileSync(p, 'utf8');
    }
  };
  walk(SOURCES_DIR);
  return sources;
}

describe('NatSpec of the product contracts', () => {
  it('every external or public function, error and event of contracts/src has @notice or @dev, and @param for each parameter', () => {
    const sources = productSources();
    expect(Object.keys(sources)).toEqual(expect.arrayContaining(['src/AegisHub.sol', 'src/interfaces/IAegisHub.sol', 'src/interfaces/IAegisFeeds.sol']));
    expect(natspecGaps(sources, (unit) => unit in sources)).toEqual([]);
  }, 120_000);

  it('the checker names a missing @param, a missing @notice and an unnamed parameter, and follows @inheritdoc', () => {
    const src = [
      '// SPDX-License-Identifier: MIT',
      'pragma solidity ^0.8.30;',
      'interface IThing {',
      '    /// @notice Emitted when a thing moved.',
      '    /// @param who The mover.',
      '    event Moved(address indexed who, uint256 amount);',
      '    error TooLate(uint256);',
      '    /// @notice Moves a thing.',
      '    /// @param amount How far.',
      '    function move(uint256 amount) external;',
      '}',
      'contract Thing is IThing {',
      '    /// @inheritdoc IThing',
      '    function move(uint256 amount) external { emit Moved(msg.sender, amount); }',
      '    function undocumented(uint256 x) external pure returns (uint256) { return x; }',
      '}',
    ].join('\n');
    expect(natspecGaps({ 'src/Thing.sol': src })).toEqual([
      'src/Thing.sol:6 IThing.Moved (event): no @param for amount',
      'src/Thing.sol:7 IThing.TooLate (error): no @notice or @dev',
      'src/Thing.sol:7 IThing.TooLate (error): parameter 1 has no name, so no @param can document it',
      'src/Thing.sol:15 Thing.undocumented (function): no @notice or @dev',
      'src/Thing.sol:15 Thing.undocumented (function): no @param for x',
    ]);
  }, 60_000);
});
