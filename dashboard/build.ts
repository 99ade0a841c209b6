/**
 * Builds the dashboard with Vite (no network: everything is in node_modules) when
 * `dashboard/dist` is missing or older than its sources or the `protocol/` code it bundles.
 * Used by `npm run demo`, the browser tests and the dashboard benchmark; `npm install` builds it
 * through the `prepare` script and `npm run build:dashboard` on demand.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)));
export const DASHBOARD_DIST_DIR = join(DASHBOARD_DIR, 'dist');
const PROTOCOL_DIR = resolve(DASHBOARD_DIR, '..', 'protocol');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** True when `dashboard/dist` is missing or older than the dashboard's or the bundled protocol's sources. */
export function dashboardStale(): boolean {
  const index = join(DASHBOARD_DIST_DIR, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return newestMtime(DASHBOARD_DIR) > built || newestMtime(PROTOCOL_DIR) > built;
}

/** Builds the page when it is missing or stale. */
export async function ensureDashboardBuilt(): Promise<void> {
  if (!dashboardStale()) return;
  const { build } = await import('vite');
  await build({ configFile: join(DASHBOARD_DIR, 'vite.config.ts'), logLevel: 'error' });
}
