/**
 * The observer's forwarder, run inside the control namespace (`aegis-tb-<runId>-ctl`, address
 * 198.18.<k>.254): it listens on a Unix socket (filesystem sockets cross network namespaces;
 * the root namespace still has no route into the testbed) and, for each connection, reads one
 * header line "ADDR PORT\n" and then pipes bytes to ADDR:PORT inside the testbed. The root
 * side (`Testbed.expose`) listens on 127.0.0.1 and connects each client through this socket.
 * Only 198.18.0.0/15 targets are accepted. stdin EOF (the controller is gone) ends it.
 *
 * Usage: node --import tsx sim/testbed/net/ctl-agent.ts --socket $TMPDIR/aegis-tb-<runId>-ctl.sock
 */
import { createServer, connect } from 'node:net';
import { rmSync } from 'node:fs';
import { inBenchRange } from './plan.ts';

const i = process.argv.indexOf('--socket');
const path = i >= 0 ? process.argv[i + 1] : undefined;
if (!path) {
  process.stderr.write('ctl-agent: --socket PATH is required\n');
  process.exit(2);
}
rmSync(path, { force: true });

const server = createServer((client) => {
  let head = Buffer.alloc(0);
  const onData = (d: Buffer): void => {
    head = Buffer.concat([head, d]);
    const nl = head.indexOf(10);
    if (nl < 0) {
      if (head.length > 200) client.destroy();
      return;
    }
    client.off('data', onData);
    client.pause();
    const m = /^([0-9.]+) (\d{1,5})$/.exec(head.subarray(0, nl).toString());
    if (!m || !inBenchRange(m[1]!)) {
      client.destroy();
      return;
    }
    const rest = head.subarray(nl + 1);
    const up = connect({ host: m[1]!, port: Number(m[2]) });
    up.once('error', () => client.destroy());
    client.once('error', () => up.destroy());
    up.once('connect', () => {
      if (rest.length > 0) up.write(rest);
      client.pipe(up);
      up.pipe(client);
      client.resume();
    });
  };
  client.on('data', onData);
});
server.listen(path, () => process.stdout.write(`${JSON.stringify({ event: 'listening', socket: path })}\n`));
const stop = (): void => {
  server.close();
  rmSync(path, { force: true });
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.resume();
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
