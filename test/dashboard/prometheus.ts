/**
 * The real Prometheus of the dashboard tests: the reusable server lives in the test kit
 * (testkit/prometheus.ts) so the alert drill (sim/devnet/alert-drill.ts) starts the same one.
 */
export { PROMETHEUS, startPrometheus, type PrometheusServer } from '../../testkit/prometheus.ts';
