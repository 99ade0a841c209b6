/**
 * The testbed's pure parts, no root needed: layout and `ip` commands, safety parsers on real
 * `ip -j` output shapes, fault expansion and nftables scripts, tc (tbf/netem) argument lists,
 * delay profiles, libfaketime settings, process argv, and the exec helper's fixes.
 */
import { describe, expect, it } from 'vitest';
import { planTestbed, setupBatches, setupCommands, parseNsName, inBenchRange, numberedHosts, planNamespaces, TestbedPlanError } from '../../sim/testbed/net/plan.ts';
import { benchAddresses, defaultRoutes } from '../../sim/testbed/net/safety.ts';
import { expandFaults, hostRuleset, linkShapeCommands, netemParams, netemProbeCommands, parseDropCounters, tbfParams, validateFault, TestbedFaultError } from '../../sim/testbed/net/faults.ts';
import { hostDelay, netemShapes, relayTables } from '../../sim/testbed/net/delay.ts';
import { testbedNamespaces } from '../../sim/testbed/net/down.ts';
import { fixFor } from '../../sim/testbed/net/exec.ts';
import { faketimeEnv, faketimeSpecString, processArgv, LIBFAKETIME_PATH } from '../../sim/testbed/proc.ts';

describe('testbed plan', () => {
  const p = planTestbed('a1b2', [{ name: 'n1', region: 'eu' }, { name: 'n2' }, { name: 'agg' }]);

  it('names namespaces aegis-tb-<runId>-<host> and addresses 198.18.<k>.<i>', () => {
    expect(p.bridgeNs).toBe('aegis-tb-a1b2-br');
    expect(p.hosts.map((h) => [h.ns, h.addr, h.bridgePort])).toEqual([
      ['aegis-tb-a1b2-n1', '198.18.161.1', 'h1'],
      ['aegis-tb-a1b2-n2', '198.18.161.2', 'h2'],
      ['aegis-tb-a1b2-agg', '198.18.161.3', 'h3'],
    ]);
    expect(p.ctl).toMatchObject({ ns: 'aegis-tb-a1b2-ctl', addr: '198.18.161.254' });
    expect(planNamespaces(p).at(-1)).toBe('aegis-tb-a1b2-br');
    expect(parseNsName('aegis-tb-a1b2-n1')).toEqual({ runId: 'a1b2', host: 'n1' });
    expect(parseNsName('aegis-tb-zz-n1')).toBeUndefined();
    expect(parseNsName('other-ns')).toBeUndefined();
  });

  it('creates every interface inside our namespaces and never a route', () => {
    const cmds = setupCommands(p);
    for (const c of cmds) {
      expect(c.join(' ')).not.toMatch(/route|default/);
      if (c[0] !== 'netns') expect(c[0]).toBe('-n'); // every link/addr command names a namespace
    }
    expect(cmds).toContainEqual(['-n', 'aegis-tb-a1b2-br', 'link', 'add', 'h1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'aegis-tb-a1b2-n1']);
    expect(cmds).toContainEqual(['-n', 'aegis-tb-a1b2-n1', 'addr', 'add', '198.18.161.1/24', 'dev', 'eth0']);
    expect(cmds).toContainEqual(['-n', 'aegis-tb-a1b2-n2', 'link', 'set', 'lo', 'up']);
  });

  it('groups the commands into one ip -batch per namespace run, in order', () => {
    const b = setupBatches(p);
    expect(b.flatMap((x) => x.lines.map((l) => [...(x.ns ? ['-n', x.ns] : []), ...l.split(' ')]))).toEqual(setupCommands(p));
    expect(b[0]).toEqual({ ns: undefined, lines: ['netns add aegis-tb-a1b2-br', 'netns add aegis-tb-a1b2-n1', 'netns add aegis-tb-a1b2-n2', 'netns add aegis-tb-a1b2-agg', 'netns add aegis-tb-a1b2-ctl'] });
    expect(b[1]!.ns).toBe('aegis-tb-a1b2-br');
  });

  it('refuses bad run ids and host names with the value', () => {
    expect(() => planTestbed('XYZ1', [{ name: 'a' }])).toThrow(new TestbedPlanError('bad runId "XYZ1": expected 4-6 lowercase hex digits'));
    expect(() => planTestbed('abcd', [{ name: 'br' }])).toThrow(/reserved/);
    expect(() => planTestbed('abcd', [{ name: 'a' }, { name: 'a' }])).toThrow(/duplicate host name "a"/);
    expect(() => planTestbed('abcd', [{ name: 'a-b' }])).toThrow(/bad host name "a-b"/);
    expect(numberedHosts(2)).toEqual([{ name: 'h1' }, { name: 'h2' }]);
  });

  it('knows the benchmarking range 198.18.0.0/15', () => {
    expect(inBenchRange('198.18.0.1')).toBe(true);
    expect(inBenchRange('198.19.255.255')).toBe(true);
    expect(inBenchRange('198.20.0.1')).toBe(false);
    expect(inBenchRange('198.17.255.255')).toBe(false);
    expect(inBenchRange('10.0.0.1')).toBe(false);
    expect(inBenchRange('not an ip')).toBe(false);
  });
});

describe('safety parsers', () => {
  it('finds default routes in ip -j route output', () => {
    const json = JSON.stringify([
      { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', flags: [] },
      { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.0.2.2', flags: [] },
    ]);
    expect(defaultRoutes(json)).toEqual(['default via 192.0.2.1 dev eth0']);
    expect(defaultRoutes('[{"dst":"198.18.5.0/24","dev":"eth0"}]')).toEqual([]);
    expect(defaultRoutes('')).toEqual([]);
  });

  it('finds testbed addresses in ip -j addr output', () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifindex: 2, ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
    ]);
    expect(benchAddresses(json)).toEqual([]);
    const bad = JSON.stringify([{ ifname: 'dummy0', addr_info: [{ family: 'inet', local: '198.19.1.1', prefixlen: 16 }] }]);
    expect(benchAddresses(bad)).toEqual(['dummy0 198.19.1.1/16']);
  });

  it('lists testbed namespaces from ip -j netns list, bridges last', () => {
    const json = JSON.stringify([{ name: 'aegis-tb-beef-br' }, { name: 'other' }, { name: 'aegis-tb-beef-h2', id: 3 }, { name: 'aegis-tb-beef-h1' }]);
    expect(testbedNamespaces(json)).toEqual(['aegis-tb-beef-h1', 'aegis-tb-beef-h2', 'aegis-tb-beef-br']);
  });
});

describe('faults', () => {
  const hosts = ['a', 'b', 'c'];
  const addr = (h: string): string => ({ a: '198.18.1.1', b: '198.18.1.2', c: '198.18.1.3' })[h]!;

  it('expands loss to both directions towards every peer', () => {
    expect(expandFaults([{ kind: 'loss', id: 'l', host: 'a', pct: 30 }], hosts)).toEqual([
      { from: 'b', to: 'a', pct: 30, fault: 'l' },
      { from: 'a', to: 'b', pct: 30, fault: 'l' },
      { from: 'c', to: 'a', pct: 30, fault: 'l' },
      { from: 'a', to: 'c', pct: 30, fault: 'l' },
    ]);
    expect(expandFaults([{ kind: 'loss', id: 'l', host: 'a', pct: 30, peers: ['c'] }], hosts).map((d) => `${d.from}>${d.to}`)).toEqual(['c>a', 'a>c']);
  });

  it('expands symmetric and asymmetric partitions', () => {
    const sym = expandFaults([{ kind: 'partition', id: 'p', a: ['a'], b: ['b', 'c'], drop: 'both' }], hosts).map((d) => `${d.from}>${d.to}`);
    expect(sym).toEqual(['a>b', 'b>a', 'a>c', 'c>a']);
    // a's requests arrive at b; b's answers never reach a.
    const asym = expandFaults([{ kind: 'partition', id: 'p', a: ['a'], b: ['b'], drop: 'bToA' }], hosts);
    expect(asym).toEqual([{ from: 'b', to: 'a', pct: 100, fault: 'p' }]);
  });

  it('writes one atomic nft script per host, dropping on arrival', () => {
    const drops = expandFaults(
      [
        { kind: 'partition', id: 'p1', a: ['a'], b: ['b', 'c'], drop: 'both' },
        { kind: 'loss', id: 'l1', host: 'b', pct: 25, peers: ['a'] },
      ],
      hosts,
    );
    expect(hostRuleset('a', drops, addr)).toBe(
      [
        'table inet aegis',
        'delete table inet aegis',
        'table inet aegis {',
        '  chain prerouting {',
        '    type filter hook prerouting priority -300; policy accept;',
        '    iifname "eth0" ip saddr { 198.18.1.2, 198.18.1.3 } counter drop comment "p1"',
        '    iifname "eth0" ip saddr 198.18.1.2 numgen random mod 100 < 25 counter drop comment "l1"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(hostRuleset('c', [], addr)).toBe('table inet aegis\ndelete table inet aegis\n');
  });

  it('refuses faults naming unknown hosts or bad percentages', () => {
    expect(() => validateFault({ kind: 'loss', id: 'x', host: 'z', pct: 5 }, hosts)).toThrow(new TestbedFaultError('fault x: host "z" is not a host of this testbed (hosts: a, b, c)'));
    expect(() => validateFault({ kind: 'loss', id: 'x', host: 'a', pct: 101 }, hosts)).toThrow(/101 is not an integer in 0..100/);
    expect(() => validateFault({ kind: 'partition', id: 'x', a: ['a'], b: ['a', 'b'], drop: 'both' }, hosts)).toThrow(/host a is on both sides/);
  });

  it('reads drop counters from nft -j output', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { table: { family: 'inet', name: 'aegis' } },
        { rule: { family: 'inet', table: 'aegis', chain: 'prerouting', comment: 'p1', expr: [{ match: {} }, { counter: { packets: 7, bytes: 420 } }, { drop: null }] } },
      ],
    });
    expect(parseDropCounters(json)).toEqual({ p1: 7 });
  });

  it('builds tbf and netem commands for one veth end', () => {
    expect(tbfParams({ rateKbit: 1000 })).toEqual(['tbf', 'rate', '1000kbit', 'burst', '3000', 'latency', '400ms']);
    expect(netemParams({ delayMs: 40, jitterMs: 5, lossPct: 2 })).toEqual(['netem', 'delay', '40ms', '5ms', 'loss', '2%']);
    expect(linkShapeCommands('ns1', 'eth0', { netem: { delayMs: 40 }, tbf: { rateKbit: 800 } })).toEqual([
      { args: ['-n', 'ns1', 'qdisc', 'del', 'dev', 'eth0', 'root'], allowFail: true },
      { args: ['-n', 'ns1', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:', 'netem', 'delay', '40ms'] },
      { args: ['-n', 'ns1', 'qdisc', 'add', 'dev', 'eth0', 'parent', '1:1', 'handle', '10:', 'tbf', 'rate', '800kbit', 'burst', '3000', 'latency', '400ms'] },
    ]);
    expect(linkShapeCommands('ns1', 'h2', {})).toEqual([{ args: ['-n', 'ns1', 'qdisc', 'del', 'dev', 'h2', 'root'], allowFail: true }]);
    expect(netemProbeCommands('scratch')[0]).toEqual(['-n', 'scratch', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    expect(() => tbfParams({ rateKbit: 0 })).toThrow(/rateKbit 0/);
  });
});

describe('delay profiles', () => {
  const hosts = [
    { name: 'a', region: 'eu', addr: '198.18.1.1' },
    { name: 'b', region: 'us', addr: '198.18.1.2' },
    { name: 'c', addr: '198.18.1.3' },
  ];
  const profile = { regions: { eu: { delayMs: 10 }, us: { delayMs: 40, jitterMs: 4 } }, hosts: { c: { delayMs: 1 } } };

  it('takes the host entry, else the region, else the default', () => {
    expect(hostDelay(profile, hosts[0]!)).toEqual({ delayMs: 10, jitterMs: 0 });
    expect(hostDelay(profile, hosts[2]!)).toEqual({ delayMs: 1, jitterMs: 0 });
    expect(hostDelay({}, hosts[0]!)).toEqual({ delayMs: 0, jitterMs: 0 });
  });

  it('gives each relay d(source) + d(self) per source address', () => {
    const t = relayTables(profile, hosts);
    expect(t.b).toEqual({ bySource: { '198.18.1.1': { delayMs: 50, jitterMs: 4 }, '198.18.1.3': { delayMs: 41, jitterMs: 4 } } });
    expect(t.a!.bySource!['198.18.1.2']).toEqual({ delayMs: 50, jitterMs: 4 });
    expect(netemShapes(profile, hosts)).toEqual({ a: { delayMs: 10 }, b: { delayMs: 40, jitterMs: 4 }, c: { delayMs: 1 } });
    expect(netemShapes({ hosts: { a: { delayMs: 0, lossPct: 3 } } }, hosts)).toEqual({ a: { delayMs: 0, lossPct: 3 }, b: undefined, c: undefined });
  });
});

describe('processes', () => {
  it('writes libfaketime specs with "." decimals and an explicit offset before a rate', () => {
    expect(faketimeSpecString({ offsetMs: 2000 })).toBe('+2s');
    expect(faketimeSpecString({ offsetMs: -2500 })).toBe('-2.5s');
    expect(faketimeSpecString({ rate: 1.001 })).toBe('+0s x1.001');
    expect(faketimeSpecString({ offsetMs: 100, rate: 1 })).toBe('+0.1s');
    expect(faketimeEnv({ offsetMs: -2000 })).toEqual({ LD_PRELOAD: LIBFAKETIME_PATH, FAKETIME: '-2s', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
    expect(() => faketimeSpecString({ rate: 0 })).toThrow(/rate 0/);
  });

  it('runs commands through ip netns exec and env, so the PID is the command', () => {
    expect(processArgv({ name: 'x', ns: 'aegis-tb-abcd-h1', cmd: 'node', args: ['-e', '1'], env: { A: '1' }, logFile: '/tmp/x', faketime: { offsetMs: 2000 } })).toEqual([
      'ip', 'netns', 'exec', 'aegis-tb-abcd-h1', 'env', 'A=1', `LD_PRELOAD=${LIBFAKETIME_PATH}`, 'FAKETIME=+2s', 'FAKETIME_DONT_FAKE_MONOTONIC=1', 'node', '-e', '1',
    ]);
    expect(processArgv({ name: 'x', cmd: 'node', args: ['a.js'], logFile: '/tmp/x' })).toEqual(['node', 'a.js']);
  });
});

describe('exec helper fixes', () => {
  it('names the package, root, or the cleanup command', () => {
    expect(fixFor('nft', ['-f', '-'], '', 'ENOENT')).toBe('`nft` is not installed: apt-get install nftables');
    expect(fixFor('ip', ['netns', 'add', 'x'], 'mount --make-shared /run/netns failed: Operation not permitted')).toMatch(/run as root/);
    expect(fixFor('ip', ['netns', 'add', 'x'], 'Cannot create namespace file "/run/netns/x": File exists')).toMatch(/aegis testbed down/);
    expect(fixFor('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem'], 'Error: Specified qdisc kind is unknown.')).toMatch(/relay/);
  });
});
