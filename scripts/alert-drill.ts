/**
 * `npm run alert-drill` — every alert rule of monitoring/aegis-alerts.yml caused for real on a
 * devnet and seen firing in a real Prometheus (sim/devnet/alert-drill.ts). Prints, per alert,
 * whether and when it fired; exits 1 if one did not fire within its bound, 2 on bad flags.
 * Flags: `--for <s>` (the rules' `for:` in the drill's copy, default 10), `--json`, `--markdown`.
 */
import { Command, InvalidArgumentError } from 'commander';
import Table from 'cli-table3';
import { plainWhenPiped } from '../runtime/cli-table.ts';
import { runAlertDrill, type DrillRow } from '../sim/devnet/alert-drill.ts';

const opts = new Command('alert-drill')
  .description('cause every Aegis alert rule on a devnet and check it fires in a real Prometheus')
  .option('--for <seconds>', "the rules' for: durations in the drill's copy of the rule file", (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 300) throw new InvalidArgumentError('expected an integer from 0 to 300');
    return n;
  }, 10)
  .option('--json', 'print the result as JSON')
  .option('--markdown', 'print the result as a Markdown table')
  .parse(process.argv)
  .opts<{ for: number; json?: boolean; markdown?: boolean }>();

const controller = new AbortController();
// tsx relays the terminal's Ctrl-C, so one keypress can arrive twice: the third signal exits
// at once (the drill's exit handlers still kill what it started, by PID).
let signals = 0;
const onSignal = () => {
  signals++;
  if (signals === 1) console.error('[alert-drill] interrupted: stopping everything it started');
  if (signals >= 3) process.exit(130);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const secs = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(0)} s`);
const labels = (r: DrillRow) => (r.labels ? Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(' ') : '');
const forCol = (r: DrillRow) => (r.ruleFor === r.drillFor ? r.ruleFor : `${r.ruleFor} → ${r.drillFor}`);

try {
  const rows = await runAlertDrill({ forSec: opts.for, log: (l) => console.error(`[alert-drill] ${l}`) }, controller.signal);
  if (opts.json) {
    console.log(JSON.stringify({ forSec: opts.for, alerts: rows }, null, 2));
  } else if (opts.markdown) {
    console.log('| alert | fired | after action | bound | for (rule → drill) | action | labels |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) console.log(`| \`${r.alert}\` | ${r.fired ? 'yes' : r.firingBeforeAction ? '**firing before its action**' : '**no**'} | ${secs(r.firedAfterS)} | ${r.boundS} s | ${forCol(r)} | ${r.action} | ${labels(r)} |`);
  } else {
    const table = new Table({ head: ['alert', 'fired', 'after action', 'bound', 'for (rule → drill)', 'action', 'labels'], colWidths: [28, 7, 8, 7, 12, 50, 36], wordWrap: true, ...plainWhenPiped() });
    for (const r of rows) table.push([r.alert, r.fired ? 'yes' : r.firingBeforeAction ? 'BEFORE' : 'NO', secs(r.firedAfterS), `${r.boundS} s`, forCol(r), r.action, labels(r)]);
    console.log(table.toString());
    console.log(`for: durations shortened to ${opts.for}s in the drill's copy of monitoring/aegis-alerts.yml (expressions unchanged).`);
  }
  const missed = rows.filter((r) => !r.fired).map((r) => r.alert);
  if (missed.length > 0) console.error(`[alert-drill] did not fire within its bound: ${missed.join(', ')}`);
  process.exit(missed.length > 0 ? 1 : 0);
} catch (err) {
  console.error(`alert drill failed: ${(err as Error).message}`);
  process.exit(controller.signal.aborted ? 130 : 1);
}
