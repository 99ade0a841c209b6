/**
 * A real Prometheus server (Debian's `prometheus` 2.x) on loopback: scrapes the given targets
 * every second, evaluates a rule file (default monitoring/aegis-alerts.yml) every second, and
 * answers /api/v1/alerts, so a test or the alert drill sees an alert fire from the code's real
 * metrics. Stopped by PID in `stop()`; its data directory is removed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from '../sim/devnet/devnet.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const ALERT_RULES = join(ROOT, 'monitoring', 'aegis-alerts.yml');
export const PROMETHEUS = [process.env.AEGIS_PROMETHEUS, '/usr/bin/prometheus'].find((p): p is string => Boolean(p) && existsSync(p!));

export interface PromAlert {
  labels: Record<string, string>;
  state: string;
  /** When the alert became pending (RFC 3339). */
  activeAt?: string;
}

export interface PrometheusServer {
  url: string;
  pid: number;
  /** Alerts firing now (name and labels). */
  firing(): Promise<PromAlert[]>;
  /** Alerts pending or firing now. */
  alerts(): Promise<PromAlert[]>;
  /** Replaces the scrape targets (config rewritten, SIGHUP) and resolves once every target was scraped up. */
  setTargets(targets: ScrapeTargets): Promise<void>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Rule file to load; default monitoring/aegis-alerts.yml. */
  rulesFile?: string;
}

export type ScrapeTargets = { job: string; urls: string[] }[];

export async function startPrometheus(targets: ScrapeTargets, o: PrometheusOptions = {}): Promise<PrometheusServer> {
  if (!PROMETHEUS) throw new Error('prometheus not found at /usr/bin/prometheus (or $AEGIS_PROMETHEUS): apt-get install -y prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'aegis-prometheus-'));
  const port = await freePort();
  const writeConfig = (ts: ScrapeTargets) =>
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
        rule_files: [o.rulesFile ?? ALERT_RULES],
        scrape_configs: ts.map((t) => ({ job_name: t.job, static_configs: [{ targets: t.urls.map((u) => new URL(u).host) }] })),
      }),
    );
  writeConfig(targets);
  const child = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited at start (code ${child.exitCode}): ${stderr}`);
    }
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (Date.now() > until) {
      await stop();
      throw new Error(`prometheus at ${url} not ready within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const alerts = async () => {
    const body = (await (await fetch(`${url}/api/v1/alerts`, { signal: AbortSignal.timeout(3000) })).json()) as { data: { alerts: PromAlert[] } };
    return body.data.alerts;
  };
  const setTargets = async (ts: ScrapeTargets) => {
    writeConfig(ts);
    child.kill('SIGHUP');
    const hosts = ts.flatMap((t) => t.urls.map((u) => new URL(u).host));
    const end = Date.now() + 20_000;
    for (;;) {
      const body = (await (await fetch(`${url}/api/v1/targets`, { signal: AbortSignal.timeout(3000) })).json()) as { data: { activeTargets: { labels: Record<string, string>; health: string }[] } };
      const up = new Set(body.data.activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.instance));
      if (hosts.every((h) => up.has(h))) return;
      if (Date.now() > end) throw new Error(`prometheus at ${url}: targets ${hosts.filter((h) => !up.has(h)).join(', ')} not scraped up within 20 s of the reload: ${stderr}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  return {
    url,
    pid: child.pid!,
    alerts,
    setTargets,
    firing: async () => (await alerts()).filter((a) => a.state === 'firing'),
    stop,
  };
}
