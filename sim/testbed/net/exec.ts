/**
 * The one place the testbed runs `ip`, `nft`, `tc` (and `ip netns exec … ss`): every call
 * goes through `sh()`, which throws `TestbedExecError` naming the command line, its stderr and
 * the fix (`fixFor`, a pure function of the command and the stderr, unit-tested). A missing
 * binary names the Debian package to install.
 */
import { spawn, spawnSync } from 'node:child_process';

/** Debian package of each tool the testbed runs. */
export const PACKAGE_OF: Record<string, string> = { ip: 'iproute2', tc: 'iproute2', ss: 'iproute2', nft: 'nftables' };

export class TestbedExecError extends Error {
  override readonly name = 'TestbedExecError';
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
    readonly fix: string,
  ) {
    super(`testbed command failed: \`${command}\` (exit ${code ?? 'signal'}): ${stderr.trim() || '(no stderr)'}; fix: ${fix}`);
  }
}

/** The operator's fix for a failed testbed command, from its stderr (pure). */
export function fixFor(cmd: string, args: readonly string[], stderr: string, spawnError?: string): string {
  if (spawnError === 'ENOENT') return `\`${cmd}\` is not installed: apt-get install ${PACKAGE_OF[cmd] ?? cmd}`;
  const s = stderr.toLowerCase();
  if (s.includes('operation not permitted') || s.includes('permission denied')) return 'run as root: network namespaces, nftables and tc need CAP_SYS_ADMIN and CAP_NET_ADMIN';
  if (s.includes('unknown qdisc kind') || s.includes('specified qdisc kind is unknown') || s.includes('unknown qdisc')) return `this kernel lacks the qdisc in \`${args.join(' ')}\`: use the user-space relay for delay (netem missing) or tbf/htb for bandwidth`;
  if (cmd === 'ip' && s.includes('file exists')) return 'a namespace or link of that name is left from an earlier run: run `aegis testbed down`';
  if (cmd === 'ip' && (s.includes('cannot open network namespace') || s.includes('no such file or directory'))) return 'the namespace is gone (torn down, or never created): check `aegis testbed status`';
  if (cmd === 'nft' && (s.includes('could not process rule') || s.includes('no such file or directory'))) return 'the kernel lacks nf_tables support for this rule (needs nf_tables with numgen): load the module or use a kernel with CONFIG_NF_TABLES';
  if (cmd === 'nft' && s.includes('syntax error')) return 'the generated nftables script is invalid: this is a testbed bug, report it with the script above';
  return 'check the command above by hand as root; `aegis testbed down` removes every leftover testbed namespace';
}

export interface ShOptions {
  /** Written to stdin (nft -f -). */
  input?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  /** Milliseconds before the command is killed (bounded); default 15,000. */
  timeoutMs?: number;
}

export interface ShResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function render(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs one command; throws `TestbedExecError` (command, stderr, fix) unless `allowFail`. */
export function sh(cmd: string, args: readonly string[], o: ShOptions = {}): Promise<ShResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${o.timeoutMs ?? 15_000} ms)`;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 15_000);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TestbedExecError(render(cmd, args), null, err.message, fixFor(cmd, args, err.message, err.code)));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0 || o.allowFail) resolve({ code, stdout, stderr });
      else reject(new TestbedExecError(render(cmd, args), code, stderr, fixFor(cmd, args, stderr)));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
  });
}

/** Synchronous variant for the last-resort `exit` hook (no event loop left there). */
export function shSync(cmd: string, args: readonly string[]): ShResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
