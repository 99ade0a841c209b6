/**
 * One process per signing store, held for the process's life — as validator clients do for
 * their slashing-protection database. Two node processes on one store would each keep their
 * own view of "already signed" between transactions; the store's `BEGIN IMMEDIATE` still stops
 * a conflicting signature, but the second process is an operator mistake worth refusing loudly
 * (it usually means a restarted node whose old process never died, or a copied config).
 *
 * The lock is a file beside the store, created with O_EXCL, holding the owner's PID and its
 * start time (from /proc, so a recycled PID is not mistaken for the owner). A lock whose owner
 * is gone (crash, SIGKILL, power loss) is taken over: nothing is lost by that, the store's own
 * records are what protects against equivocation.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { StoreError } from './errors.ts';

export interface InstanceLock {
  readonly path: string;
  release(): void;
}

interface Owner {
  pid: number;
  startTime: string;
}

/** The kernel's start time of `pid` (clock ticks since boot), or '' where /proc has none. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
    return fields[19] ?? '';
  } catch {
    try {
      process.kill(pid, 0);
      return ''; // alive, but no /proc (not Linux)
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? '' : undefined;
    }
  }
}

function readOwner(path: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.startTime === 'string' ? { pid: o.pid, startTime: o.startTime } : undefined;
  } catch {
    return undefined;
  }
}

function alive(owner: Owner): boolean {
  const now = startTimeOf(owner.pid);
  if (now === undefined) return false;
  return owner.startTime === '' || now === '' || now === owner.startTime;
}

/**
 * Takes the lock `storePath + '.lock'` for this process or throws `store_locked` naming the
 * PID that holds it. Call `release()` on close; a crashed owner's lock is taken over.
 */
export function lockStore(storePath: string): InstanceLock {
  const path = `${storePath}.lock`;
  const me: Owner = { pid: process.pid, startTime: startTimeOf(process.pid) ?? '' };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          // Only remove the lock if it is still ours (an operator may have removed it by hand).
          const o = readOwner(path);
          if (o && o.pid === me.pid && o.startTime === me.startTime) {
            try {
              unlinkSync(path);
            } catch {
              /* already gone */
            }
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError('open_failed', `signing store ${storePath}: cannot create its lock file ${path} (${(err as Error).message}); check that the directory is writable`, { cause: err });
      }
    }
    const owner = readOwner(path);
    if (owner && owner.pid === me.pid && owner.startTime === me.startTime) {
      throw new StoreError('store_locked', `signing store ${storePath} is already open in this process (pid ${me.pid}); close it before opening it again`);
    }
    if (owner && alive(owner)) {
      throw new StoreError(
        'store_locked',
        `signing store ${storePath} is in use by another process (pid ${owner.pid}, lock ${path}); stop that node first — two nodes must never share a signing store`,
      );
    }
    // The owner is gone, or the lock is unreadable (a crash mid-write): move it aside atomically
    // and retry, so two processes racing for a stale lock cannot both win.
    try {
      renameSync(path, `${path}.stale-${process.pid}`);
      unlinkSync(`${path}.stale-${process.pid}`);
    } catch {
      /* someone else took it over first; retry decides */
    }
  }
  throw new StoreError('store_locked', `signing store ${storePath}: could not take the lock ${path} after 3 attempts; another process keeps taking it — stop the other node`);
}
