/** The small pieces: parent-process hints, /proc parsers, runtime files, formatting. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerToJson, formatContainersTable } from '../../src/containers/format.js';
import { rfc3339ToNs } from '../../src/containers/http-unix.js';
import { optionValue, parentHint } from '../../src/containers/parent-rules.js';
import { parseStat } from '../../src/containers/procfs.js';
import { parseLxcConfig } from '../../src/containers/runtimes/lxc.js';
import { parseMachineState } from '../../src/containers/runtimes/machined.js';
import { findBundle, readBundle } from '../../src/containers/runtimes/oci-bundle.js';
import { emptyNamespaces } from '../../src/containers/types.js';
import type { ContainerInfo } from '../../src/containers/types.js';

const ID = '08427f14469810edadec9c98e54a3faef97dfb5e6c843cc2f948173eb977fb2a';

describe('parentHint (command lines captured on this machine)', () => {
  it('containerd shim of Docker', () => {
    const argv = [
      '/usr/bin/containerd-shim-runc-v2',
      '-namespace',
      'moby',
      '-id',
      ID,
      '-address',
      '/run/docker/containerd/containerd.sock',
    ];
    expect(parentHint('containerd-shim', argv)).toMatchObject({ type: 'docker', id: ID, namespace: 'moby' });
  });
  it('containerd shim of a Kubernetes pod: the id is the sandbox, not used', () => {
    expect(
      parentHint('containerd-shim', ['containerd-shim-runc-v2', '-namespace', 'k8s.io', '-id', ID]),
    ).toMatchObject({ type: 'k8s', id: '' });
    expect(
      parentHint('containerd-shim', ['containerd-shim-runc-v2', '-namespace', 'default', '-id', 'redis']),
    ).toMatchObject({ type: 'containerd', id: 'redis' });
  });
  it('conmon of Podman', () => {
    const argv = [
      '/usr/bin/conmon',
      '--api-version',
      '1',
      '-c',
      ID,
      '-u',
      ID,
      '-r',
      '/usr/bin/runc',
      '-b',
      `/var/lib/containers/storage/overlay-containers/${ID}/userdata`,
      '-p',
      '/run/x/pidfile',
      '-n',
      'pm1',
      '--exit-dir',
      '/run/libpod/exits',
      '--exit-command',
      '/usr/bin/podman',
      '--exit-command-arg',
      '--root',
    ];
    expect(parentHint('conmon', argv)).toMatchObject({
      type: 'podman',
      id: ID,
      name: 'pm1',
      bundle: `/var/lib/containers/storage/overlay-containers/${ID}/userdata`,
    });
  });
  it('conmon of CRI-O (no --exit-command, crio paths)', () => {
    const argv = [
      '/usr/bin/conmon',
      '-c',
      ID,
      '-n',
      `k8s_web_x_y_z_0`,
      '-b',
      `/run/containers/storage/overlay-containers/${ID}/userdata`,
      '--exit-dir',
      '/var/run/crio/exits',
    ];
    expect(parentHint('conmon', argv)).toMatchObject({ type: 'cri-o', id: ID, name: '' });
  });
  it('LXC monitor (argv rewritten into one string)', () => {
    expect(parentHint('lxc-start', ['[lxc monitor] /var/lib/lxc lxbb'])).toMatchObject({
      type: 'lxc',
      id: 'lxbb',
      name: 'lxbb',
      lxcPath: '/var/lib/lxc',
    });
    expect(parentHint('lxc-start', ['[lxc monitor] /tmp/my lxc path web1'])).toMatchObject({
      lxcPath: '/tmp/my lxc path',
      name: 'web1',
    });
  });
  it('systemd-nspawn: -M, else the directory name', () => {
    expect(
      parentHint('systemd-nspawn', [
        'systemd-nspawn',
        '-q',
        '-D',
        '/tmp/ctx/nsroot',
        '-M',
        'ns1',
        '--register=no',
        '--keep-unit',
        '--',
        '/bin/sh',
        '-M',
        'x',
      ]),
    ).toMatchObject({ type: 'nspawn', id: 'ns1', name: 'ns1', rootfs: '/tmp/ctx/nsroot' });
    expect(
      parentHint('systemd-nspawn', ['systemd-nspawn', '--directory=/var/lib/machines/deb/', '-b']),
    ).toMatchObject({ name: 'deb' });
    expect(
      parentHint('systemd-nspawn', ['systemd-nspawn', '--image=/srv/web.raw', '--machine', 'w']),
    ).toMatchObject({ name: 'w', rootfs: '/srv/web.raw' });
    expect(parentHint('systemd-nspawn', ['systemd-nspawn', '-i/srv/web.raw'])).toMatchObject({ name: 'web' });
  });
  it('unshare, and parents that are no runtime', () => {
    expect(parentHint('unshare', ['unshare', '--pid', '--fork', 'sh'])).toMatchObject({ type: 'unshare' });
    expect(parentHint('bash', ['-bash'])).toBeNull();
    expect(parentHint('systemd', [])).toBeNull();
  });
  it('optionValue stops at --', () => {
    expect(optionValue(['-a', '--', '-M', 'x'], '-M', '--machine')).toBeNull();
    expect(optionValue(['-Mfoo'], '-M', '--machine')).toBe('foo');
    expect(optionValue(['--machine=bar'], '-M', '--machine')).toBe('bar');
  });
});

describe('parseStat', () => {
  it('takes comm between the first ( and the last ), spaces and parentheses included', () => {
    const f = 'S 800 811 811 0 -1 4194560 59 0 0 0 0 0 0 0 20 0 1 0 77634 2322 0';
    expect(parseStat(`811 (my (app) x) ${f}`)).toEqual({
      pid: 811,
      comm: 'my (app) x',
      ppid: 800,
      startTicks: 77634,
      exiting: false,
    });
    expect(parseStat('garbage')).toBeNull();
  });

  it('says when the process is exiting: a zombie, dead, or flagged PF_EXITING', () => {
    const stat = (state: string, flags: number): string =>
      `811 (sh) ${state} 800 811 811 0 -1 ${flags} 59 0 0 0 0 0 0 0 20 0 1 0 77634 2322 0`;
    expect(parseStat(stat('S', 4194560))?.exiting).toBe(false);
    expect(parseStat(stat('D', 4194560))?.exiting).toBe(false);
    expect(parseStat(stat('Z', 4194316))?.exiting).toBe(true);
    expect(parseStat(stat('X', 0))?.exiting).toBe(true);
    // An init waiting for the rest of its pid namespace to die: still `S`, flags has 0x4.
    expect(parseStat(stat('S', 4194564))?.exiting).toBe(true);
  });
});

describe('runtime files', () => {
  it('LXC config: later keys win, comments skipped', () => {
    const m = parseLxcConfig(
      '# Template used: busybox\nlxc.rootfs.path = dir:/var/lib/lxc/a/rootfs\nlxc.uts.name=a\nlxc.uts.name = b\n\nbad line\n',
    );
    expect(m.get('lxc.rootfs.path')).toBe('dir:/var/lib/lxc/a/rootfs');
    expect(m.get('lxc.uts.name')).toBe('b');
    expect(m.size).toBe(2);
  });
  it('machined state file', () => {
    const s = parseMachineState(
      'web',
      'NAME=web\nSCOPE=machine-web.scope\nSERVICE=nspawn\nROOT=/var/lib/machines/web\nCLASS=container\nLEADER=4242\n',
    );
    expect(s).toEqual({
      name: 'web',
      leader: 4242,
      class: 'container',
      service: 'nspawn',
      root: '/var/lib/machines/web',
      scope: 'machine-web.scope',
    });
  });
  it('OCI bundle: annotations and cgroupsPath; non-OCI JSON is ignored', () => {
    const d = mkdtempSync(join(tmpdir(), 'nstrace-bundle-'));
    try {
      writeFileSync(
        join(d, 'config.json'),
        JSON.stringify({
          ociVersion: '1.0.2-dev',
          hostname: '08427f144698',
          annotations: { a: 'b', n: 1 },
          linux: { cgroupsPath: `/docker/${ID}` },
          root: { path: '/x/rootfs' },
        }),
      );
      expect(readBundle(d)).toEqual({
        dir: d,
        annotations: { a: 'b' },
        hostname: '08427f144698',
        cgroupsPath: `/docker/${ID}`,
        rootfs: '/x/rootfs',
      });
      expect(findBundle(ID, ['/nonexistent', d], [])?.dir).toBe(d);
      writeFileSync(join(d, 'config.json'), '{"not":"oci"}');
      expect(readBundle(d)).toBeNull();
      expect(findBundle(ID, [d], [`${d}/{id}`])).toBeNull();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('rfc3339ToNs', () => {
  it('keeps nanoseconds and offsets; zero and junk give 0n', () => {
    expect(rfc3339ToNs('2026-11-27T13:05:17.172955135Z')).toBe(1_795_784_717_172_955_135n);
    expect(rfc3339ToNs('2026-11-27T14:05:17.1+01:00')).toBe(1_795_784_717_100_000_000n);
    expect(rfc3339ToNs('2026-11-27T13:05:17Z')).toBe(1_795_784_717_000_000_000n);
    expect(rfc3339ToNs('0001-01-01T00:00:00Z')).toBe(0n);
    expect(rfc3339ToNs('')).toBe(0n);
  });
});

describe('formatting', () => {
  const c: ContainerInfo = {
    key: `docker:${ID}`,
    id: ID,
    name: 'dk1',
    type: 'docker',
    runtime: 'docker',
    image: 'local/bb:1',
    state: 'running',
    initPid: 4586,
    ns: { ...emptyNamespaces(), pid: 4026532183, mnt: 4026532180 },
    cgroupPath: `/docker/${ID}`,
    podName: '',
    podNamespace: '',
    podUid: '',
    startedAt: 1_795_784_717_172_955_135n,
    pids: [4586],
    labels: {},
    rootfs: '',
    sources: ['cgroup', 'docker-api'],
  };
  it('table: docker-ps-like, 12-char ids unless noTrunc, "-" for unknowns, POD column only when needed', () => {
    const t = formatContainersTable([c]).split('\n');
    expect(t[0]?.split(/\s+/)).toEqual([
      'RUNTIME',
      'ID',
      'NAME',
      'IMAGE',
      'STATE',
      'PID',
      'PID_NS',
      'USER_NS',
      'MNT_NS',
      'NET_NS',
      'UTS_NS',
      'IPC_NS',
      'CGROUP_NS',
      'TIME_NS',
      'CGROUP',
    ]);
    expect(t[1]?.split(/\s+/)).toEqual([
      'docker',
      ID.slice(0, 12),
      'dk1',
      'local/bb:1',
      'running',
      '4586',
      '4026532183',
      '-',
      '4026532180',
      '-',
      '-',
      '-',
      '-',
      '-',
      `/docker/${ID}`,
    ]);
    expect(formatContainersTable([c], { noTrunc: true })).toContain(ID);
    const k = formatContainersTable([
      { ...c, type: 'k8s', runtime: 'containerd', podName: 'web', podNamespace: 'shop' },
    ]);
    expect(k.split('\n')[1]?.split(/\s+/).slice(0, 4)).toEqual([
      'k8s/containerd',
      ID.slice(0, 12),
      'dk1',
      'shop/web',
    ]);
  });
  it('JSON: start time as a decimal string and ISO time', () => {
    expect(containerToJson(c)).toMatchObject({
      startedAt: '1795784717172955135',
      started: '2026-11-27T13:05:17.172Z',
      initPid: 4586,
    });
    expect(JSON.stringify(containerToJson({ ...c, startedAt: 0n }))).toContain('"started":null');
  });
});
