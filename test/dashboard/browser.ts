/**
 * Test kit for the dashboard's browser tests and benchmarks: finds Debian's Chromium (or the
 * one named by AEGIS_CHROMIUM), builds the page when `dashboard/dist` is missing or older than
 * its sources (dashboard/build.ts), and launches Chromium through playwright-core with a fresh profile and the flags
 * that keep it off the network (it may only reach the loopback servers a test started).
 *
 * Without Chromium the suites skip with one line saying how to install it; under
 * AEGIS_REQUIRE_BROWSER_TESTS=1 (set by `.ci/run`, which installs it) a skip fails instead.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { dashboardStale, ensureDashboardBuilt } from '../../dashboard/build.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DASHBOARD = join(ROOT, 'dashboard');
export const DIST = join(DASHBOARD, 'dist');

export const REQUIRE_BROWSER = process.env.AEGIS_REQUIRE_BROWSER_TESTS === '1';

export function chromiumPath(): string | undefined {
  const candidates = [process.env.AEGIS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((x): x is string => Boolean(x));
  return candidates.find((p) => existsSync(p));
}

export const NO_CHROMIUM = 'no Chromium at /usr/bin/chromium (nor AEGIS_CHROMIUM): install it with `apt-get install -y chromium` (Debian) or set AEGIS_CHROMIUM=/path/to/chromium';

/** Either the browser path, or throws under AEGIS_REQUIRE_BROWSER_TESTS=1, or undefined (skip). */
export function browserGate(): string | undefined {
  const p = chromiumPath();
  if (p) return p;
  if (REQUIRE_BROWSER) throw new Error(`AEGIS_REQUIRE_BROWSER_TESTS=1 but the browser tests cannot run: ${NO_CHROMIUM}`);
  console.warn(`skipping the dashboard browser tests: ${NO_CHROMIUM}`);
  return undefined;
}

export { dashboardStale, ensureDashboardBuilt };

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile in a temporary directory, removed by `close()`. */
export async function launchBrowser(executablePath: string, viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'aegis-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args: CHROMIUM_ARGS, viewport, ignoreDefaultArgs: ['--enable-automation'] });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  // Only loopback: anything else the page asks for is refused and counted as an error.
  const errors: string[] = [];
  await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/]|data:|blob:|about:)/, (route) => {
    errors.push(`blocked non-loopback request: ${route.request().url()}`);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const watch = (p: Page) => {
    p.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  };
  watch(page);
  context.on('page', watch);
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
