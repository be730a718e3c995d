/**
 * Discovery on a fake /proc: grouping, init choice, parent hints, OCI bundle annotations,
 * degradation. The live behaviour of each runtime is in live.test.ts; these cover layouts that
 * cannot run here (Kubernetes pods) and corner cases.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discover, hostPidNamespace } from '../../src/containers/discover.js';
import type { DiscoverOptions } from '../../src/containers/discover.js';
import { ProcFs } from '../../src/containers/procfs.js';
import { toContainerEventPayload } from '../../src/containers/types.js';
import { FakeProc, HOST_NS, hybridCgroup } from './fake-proc.js';

const ID1 = '72151856668b2b768929378a2641e9124def57be8a5707182bdf4711c64ecadf';
const ID2 = '0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86';
const SANDBOX = 'f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830';
const APP = 'e01a26336924e2fb8089bcf4cf943954fd9ea616cc5678f38f65928307979459';
const POD_UID = 'dd1bf9d1-241d-47f5-8e25-12de83135812';

let fp: FakeProc;
const noSockets = (o: DiscoverOptions = {}): DiscoverOptions => ({
  procRoot: fp.root,
  dockerSockets: [],
  podmanSockets: [],
  lxdSockets: [],
  crioSockets: [],
  ...o,
});

beforeEach(() => {
  fp = new FakeProc().host();
});
afterEach(() => fp.dispose());

describe('discover on a fake /proc', () => {
  it('finds no container on a bare host', async () => {
    const d = await discover(noSockets());
    expect(d.containers).toEqual([]);
    expect(d.hostPidNs).toBe(HOST_NS.pid); // from kthreadd: pid 1's links are unreadable here
  });

  it('Docker: the init is pid 1 of the container, not a `docker exec` process; the shim names the engine', async () => {
    const ns = { pid: 4026532183, mnt: 4026532180, net: 4026532185, uts: 4026532181, ipc: 4026532182 };
    const cg = hybridCgroup(`/docker/${ID1}`);
    fp.add({
      pid: 4500,
      ppid: 1,
      comm: 'containerd-shim',
      cgroup: hybridCgroup('/'),
      cmdline: [
        '/usr/bin/containerd-shim-runc-v2',
        '-namespace',
        'moby',
        '-id',
        ID1,
        '-address',
        '/run/x.sock',
      ],
    });
    // The exec'd shell started later but also has the shim as parent.
    fp.add({ pid: 4600, ppid: 4500, comm: 'sh', cgroup: cg, ns, nsPids: [4600, 7], startTicks: 900 });
    fp.add({ pid: 4586, ppid: 4500, comm: 'sh', cgroup: cg, ns, nsPids: [4586, 1], startTicks: 800 });
    fp.add({ pid: 4590, ppid: 4586, comm: 'sleep', cgroup: cg, ns, nsPids: [4590, 2], startTicks: 850 });
    const bootBefore = new ProcFs(fp.root).bootTimeNs();
    const [c, ...rest] = (await discover(noSockets({ api: false }))).containers;
    const bootAfter = new ProcFs(fp.root).bootTimeNs();
    expect(rest).toEqual([]);
    expect(c).toMatchObject({
      key: `docker:${ID1}`,
      id: ID1,
      type: 'docker',
      runtime: 'docker',
      name: '',
      initPid: 4586,
      cgroupPath: `/docker/${ID1}`,
      pids: [4586, 4590, 4600],
      ns: { ...HOST_NS, ...ns },
      sources: ['cgroup'],
    });
    const payload = c ? toContainerEventPayload(c) : undefined;
    expect(payload).toMatchObject({
      id: ID1,
      type: 'docker',
      init_pid: 4586,
      pid_ns: ns.pid,
      net_ns: ns.net,
      time_ns: HOST_NS.time,
    });
    expect(Object.keys(payload ?? {})).toEqual([
      'id',
      'name',
      'type',
      'image',
      'init_pid',
      'pid_ns',
      'user_ns',
      'mnt_ns',
      'net_ns',
      'uts_ns',
      'ipc_ns',
      'cgroup_ns',
      'time_ns',
      'cgroup_path',
      'pod_name',
      'pod_namespace',
      'pod_uid',
      'started_at',
    ]);
    // started_at = boot + 800 ticks; boot = the clock at the scan minus the fake uptime (1000 s).
    const started = c?.startedAt ?? 0n;
    expect(started >= bootBefore + 8_000_000_000n && started <= bootAfter + 8_000_000_000n).toBe(true);
  });

  it('Docker --pid=host: no private pid namespace, the init is the earliest process whose parent is outside', async () => {
    const cg = hybridCgroup(`/docker/${ID1}`);
    fp.add({ pid: 500, ppid: 1, comm: 'containerd-shim', cgroup: hybridCgroup('/') });
    fp.add({ pid: 520, ppid: 500, comm: 'nginx', cgroup: cg, ns: { mnt: 4026532300 }, startTicks: 50 });
    fp.add({ pid: 521, ppid: 520, comm: 'nginx', cgroup: cg, ns: { mnt: 4026532300 }, startTicks: 60 });
    fp.add({ pid: 530, ppid: 500, comm: 'sh', cgroup: cg, ns: { mnt: 4026532300 }, startTicks: 70 });
    const [c] = (await discover(noSockets({ api: false }))).containers;
    expect(c?.initPid).toBe(520);
    expect(c?.ns.pid).toBe(HOST_NS.pid);
    expect(c?.pids).toEqual([520, 521, 530]);
  });

  it('Kubernetes pod (containerd, systemd driver): shared pid namespace, names from the OCI bundles', async () => {
    const bundles = mkdtempSync(join(tmpdir(), 'nstrace-bundles-'));
    try {
      // containerd keeps one task dir per container; the pod's shim runs in the sandbox's.
      const annotations = {
        'io.kubernetes.cri.container-type': 'container',
        'io.kubernetes.cri.container-name': 'web',
        'io.kubernetes.cri.image-name': 'docker.io/library/nginx:1.25',
        'io.kubernetes.cri.sandbox-id': SANDBOX,
        'io.kubernetes.cri.sandbox-name': 'web-7d4b9c',
        'io.kubernetes.cri.sandbox-namespace': 'shop',
        'io.kubernetes.cri.sandbox-uid': POD_UID,
      };
      for (const [id, ann] of [
        [
          SANDBOX,
          {
            ...annotations,
            'io.kubernetes.cri.container-type': 'sandbox',
            'io.kubernetes.cri.container-name': undefined,
          },
        ],
        [APP, annotations],
      ] as const) {
        mkdirSync(join(bundles, id), { recursive: true });
        writeFileSync(
          join(bundles, id, 'config.json'),
          JSON.stringify({
            ociVersion: '1.1.0',
            hostname: 'web-7d4b9c',
            annotations: ann,
            linux: {},
            root: { path: 'rootfs' },
          }),
        );
      }
      const slice = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_UID.replace(/-/g, '_')}.slice`;
      const podNs = { pid: 4026532400, ipc: 4026532401, net: 4026532402, uts: 4026532403 };
      fp.add({
        pid: 900,
        ppid: 1,
        comm: 'containerd-shim',
        cgroup: hybridCgroup('/system.slice/containerd.service'),
        cmdline: [
          '/usr/bin/containerd-shim-runc-v2',
          '-namespace',
          'k8s.io',
          '-id',
          SANDBOX,
          '-address',
          '/run/containerd/containerd.sock',
        ],
        cwd: join(bundles, SANDBOX),
      });
      fp.add({
        pid: 910,
        ppid: 900,
        comm: 'pause',
        cgroup: hybridCgroup(`${slice}/cri-containerd-${SANDBOX}.scope`),
        ns: { ...podNs, mnt: 4026532404 },
        nsPids: [910, 1],
      });
      fp.add({
        pid: 950,
        ppid: 900,
        comm: 'nginx',
        cgroup: hybridCgroup(`${slice}/cri-containerd-${APP}.scope`),
        ns: { ...podNs, mnt: 4026532405 },
        nsPids: [950, 7],
      });
      fp.add({
        pid: 951,
        ppid: 950,
        comm: 'nginx',
        cgroup: hybridCgroup(`${slice}/cri-containerd-${APP}.scope`),
        ns: { ...podNs, mnt: 4026532405 },
        nsPids: [951, 8],
      });

      const d = await discover(noSockets());
      const app = d.containers.find((c) => c.id === APP);
      const pause = d.containers.find((c) => c.id === SANDBOX);
      expect(app).toMatchObject({
        type: 'k8s',
        runtime: 'containerd',
        name: 'web',
        image: 'docker.io/library/nginx:1.25',
        podName: 'web-7d4b9c',
        podNamespace: 'shop',
        podUid: POD_UID,
        initPid: 950, // no pid 1 in its cgroup: the topmost process
        key: `k8s:${POD_UID}/web`,
      });
      expect(app?.ns.pid).toBe(podNs.pid);
      expect(app?.sources).toEqual(['cgroup', 'oci-bundle']);
      expect(pause).toMatchObject({ type: 'k8s', name: 'POD', initPid: 910, key: `k8s:${POD_UID}/POD` });
      // Without the files, the cgroup alone still gives pod uid and id.
      const bare = (await discover(noSockets({ api: false }))).containers.find((c) => c.id === APP);
      expect(bare).toMatchObject({
        type: 'k8s',
        runtime: 'containerd',
        podUid: POD_UID,
        name: '',
        key: `k8s:${APP}`,
      });
    } finally {
      rmSync(bundles, { recursive: true, force: true });
    }
  });

  it('systemd-nspawn in a machine scope: the payload is the container, the supervisor is not', async () => {
    const scope = '/machine.slice/machine-web\\x2d1.scope';
    fp.add({
      pid: 700,
      ppid: 300,
      comm: 'systemd-nspawn',
      cgroup: hybridCgroup(scope, { systemd: `${scope}/supervisor`, unified: `${scope}/supervisor` }),
      cmdline: ['systemd-nspawn', '-q', '-D', '/var/lib/machines/web-1', '-M', 'web-1', '--keep-unit'],
    });
    fp.add({
      pid: 703,
      ppid: 700,
      comm: 'systemd',
      cgroup: hybridCgroup(scope, { systemd: `${scope}/payload`, unified: `${scope}/payload` }),
      ns: { pid: 4026532500 },
      nsPids: [703, 1],
    });
    const [c, ...rest] = (await discover(noSockets({ api: false }))).containers;
    expect(rest).toEqual([]);
    expect(c).toMatchObject({
      type: 'nspawn',
      id: 'web-1',
      name: 'web-1',
      initPid: 703,
      pids: [703],
      cgroupPath: `${scope}/payload`,
      rootfs: '/var/lib/machines/web-1',
      sources: ['cgroup', 'parent'],
    });
  });

  it('bare pid namespaces: named by the runtime above (nspawn --keep-unit), else by their init', async () => {
    fp.add({
      pid: 800,
      ppid: 300,
      comm: 'systemd-nspawn',
      cgroup: hybridCgroup('/'),
      cmdline: ['systemd-nspawn', '--directory=/srv/deb', '--keep-unit'],
    });
    fp.add({
      pid: 801,
      ppid: 800,
      comm: 'sh',
      cgroup: hybridCgroup('/', { systemd: '/payload', unified: '/payload' }),
      ns: { pid: 4026532600 },
      nsPids: [801, 1],
    });
    fp.add({ pid: 810, ppid: 300, comm: 'bwrap', cgroup: hybridCgroup('/') });
    fp.add({
      pid: 811,
      ppid: 810,
      comm: 'my app',
      cgroup: hybridCgroup('/'),
      ns: { pid: 4026532610 },
      nsPids: [811, 1],
    });
    fp.add({
      pid: 812,
      ppid: 811,
      comm: 'worker',
      cgroup: hybridCgroup('/'),
      ns: { pid: 4026532610 },
      nsPids: [812, 2],
    });
    const d = await discover(noSockets({ api: false }));
    expect(d.containers.map((c) => [c.key, c.type, c.name, c.initPid, c.pids])).toEqual([
      ['nspawn:deb', 'nspawn', 'deb', 801, [801]],
      ['unshare:pidns:4026532610', 'unshare', 'my app', 811, [811, 812]],
    ]);
  });

  it('Podman with a bare-id cgroup parent: conmon tells the engine and the name; conmon is no container', async () => {
    fp.add({
      pid: 600,
      ppid: 1,
      comm: 'conmon',
      cgroup: hybridCgroup('/libpod_parent/conmon'),
      cmdline: [
        '/usr/bin/conmon',
        '--api-version',
        '1',
        '-c',
        ID2,
        '-u',
        ID2,
        '-r',
        '/usr/bin/runc',
        '-b',
        `/var/lib/containers/storage/overlay-containers/${ID2}/userdata`,
        '-n',
        'pm1',
        '--exit-command',
        '/usr/bin/podman',
      ],
    });
    fp.add({
      pid: 610,
      ppid: 600,
      comm: 'sh',
      cgroup: hybridCgroup(`/machine/${ID2}`),
      ns: { pid: 4026532700 },
      nsPids: [610, 1],
    });
    const [c, ...rest] = (await discover(noSockets({ api: false }))).containers;
    expect(rest).toEqual([]);
    expect(c).toMatchObject({
      type: 'podman',
      id: ID2,
      name: 'pm1',
      initPid: 610,
      sources: ['cgroup', 'parent'],
    });
  });

  it('a restart: the old instance, still exiting in the same cgroup, is neither the init nor a process', async () => {
    const cg = hybridCgroup(`/machine/libpod-${ID2}.scope`);
    // The old init waits for the rest of its pid namespace to die (flag PF_EXITING); its child
    // is a zombie. The new instance's init started later.
    fp.add({
      pid: 3193,
      ppid: 600,
      comm: 'sh',
      cgroup: cg,
      ns: { pid: 4026532700 },
      nsPids: [3193, 1],
      startTicks: 500,
      flags: 0x400104,
    });
    fp.add({
      pid: 3194,
      ppid: 3193,
      comm: 'sleep',
      cgroup: cg,
      ns: { pid: 4026532700 },
      nsPids: [3194, 2],
      startTicks: 510,
      state: 'Z',
    });
    fp.add({
      pid: 3195,
      ppid: 601,
      comm: 'sh',
      cgroup: cg,
      ns: { pid: 4026532701 },
      nsPids: [3195, 1],
      startTicks: 600,
    });
    fp.add({
      pid: 3196,
      ppid: 3195,
      comm: 'sleep',
      cgroup: cg,
      ns: { pid: 4026532701 },
      nsPids: [3196, 2],
      startTicks: 610,
    });
    const d = await discover(noSockets({ api: false }));
    expect(d.containers.map((c) => [c.id, c.initPid, c.ns.pid, c.pids])).toEqual([
      [ID2, 3195, 4026532701, [3195, 3196]],
    ]);
  });

  it('a process that exits during the scan is skipped, not an error', async () => {
    fp.add({ pid: 4586, ppid: 1, comm: 'sh', cgroup: hybridCgroup(`/docker/${ID1}`), noNs: true });
    expect((await discover(noSockets({ api: false }))).containers).toEqual([]);
  });

  it('warns, once per runtime, when containers need a socket that is not there', async () => {
    fp.add({
      pid: 4586,
      ppid: 1,
      comm: 'sh',
      cgroup: hybridCgroup(`/docker/${ID1}`),
      ns: { pid: 4026532183 },
      nsPids: [4586, 1],
    });
    const warnings: string[] = [];
    const d = await discover(
      noSockets({ dockerSockets: ['/nonexistent/docker.sock'], onWarning: (m) => warnings.push(m) }),
    );
    expect(warnings).toEqual([
      'docker: no API socket (/nonexistent/docker.sock); names and images of its containers are unknown (cgroup rules only)',
    ]);
    expect(d.containers[0]?.id).toBe(ID1);
  });
});

describe('hostPidNamespace', () => {
  it('prefers pid 1, then kthreadd, then our own', () => {
    const p = new FakeProc();
    try {
      p.add({ pid: 1, ppid: 0, comm: 'init', cgroup: '', ns: { pid: 111 } });
      expect(hostPidNamespace(new ProcFs(p.root))).toBe(111);
      p.add({ pid: 1, ppid: 0, comm: 'init', cgroup: '', noNs: true });
      p.add({ pid: 2, ppid: 0, comm: 'kthreadd', cgroup: '', ns: { pid: 222 } });
      expect(hostPidNamespace(new ProcFs(p.root))).toBe(222);
    } finally {
      p.dispose();
    }
  });
});
