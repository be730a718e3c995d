/**
 * Runtime API clients against fake servers on unix sockets. Response shapes follow the runtimes'
 * documentation and what the real daemons answered on this machine (Docker 20.10 /containers/json
 * and inspect, Podman 4.3 libpod/containers/json, both event streams; see live.test.ts for the
 * real ones). LXD (`/1.0/instances?recursion=2`, sync envelope `{type, status, metadata}`) and
 * CRI-O (`/containers/<id>`: name, pid, image, labels, annotations; from cri-o's
 * `ContainerInfo` type and its `ctr inspect` integration test) cannot run here.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discover } from '../../src/containers/discover.js';
import { getJson, rfc3339ToNs, RuntimeApiError } from '../../src/containers/http-unix.js';
import { inspectCrio } from '../../src/containers/runtimes/crio.js';
import { listDocker, watchDockerEvents } from '../../src/containers/runtimes/docker.js';
import type { RuntimeEvent } from '../../src/containers/runtimes/docker.js';
import { listLxd } from '../../src/containers/runtimes/lxd.js';
import { listPodman, watchPodmanEvents } from '../../src/containers/runtimes/podman.js';
import { FakeProc, hybridCgroup } from './fake-proc.js';
import { waitFor } from './harness.js';

const ID1 = '72151856668b2b768929378a2641e9124def57be8a5707182bdf4711c64ecadf';
const ID2 = '0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let dir: string;
const servers: Server[] = [];

async function serve(name: string, handler: Handler): Promise<string> {
  const path = join(dir, name);
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(path, r));
  return path;
}

function json(res: ServerResponse, v: unknown, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(v));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nstrace-api-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('Docker Engine API', () => {
  it('lists containers and inspects the live ones for pid and exact start time', async () => {
    const asked: string[] = [];
    const sock = await serve('docker.sock', (req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/containers/json?all=1')
        return json(res, [
          { Id: ID1, Names: ['/dk1'], Image: 'local/bb:latest', State: 'running', Labels: { tier: 'web' } },
          {
            Id: ID2,
            Names: ['/k8s_web_web-7d4b9c_shop_dd1bf9d1-241d-47f5-8e25-12de83135812_0'],
            Image: 'sha256:abc',
            State: 'exited',
            Labels: {
              'io.kubernetes.pod.name': 'web-7d4b9c',
              'io.kubernetes.pod.namespace': 'shop',
              'io.kubernetes.pod.uid': 'dd1bf9d1-241d-47f5-8e25-12de83135812',
              'io.kubernetes.container.name': 'web',
              'io.kubernetes.docker.type': 'container',
            },
          },
        ]);
      if (req.url === `/containers/${ID1}/json`)
        return json(res, { Id: ID1, State: { Pid: 4586, StartedAt: '2026-11-27T13:05:17.172955135Z' } });
      json(res, { message: 'no such container' }, 404);
    });
    const list = await listDocker(sock, 500);
    expect(asked).toEqual(['/containers/json?all=1', `/containers/${ID1}/json`]);
    expect(list).toEqual([
      expect.objectContaining({
        id: ID1,
        type: 'docker',
        name: 'dk1',
        image: 'local/bb:latest',
        running: true,
        pid: 4586,
        labels: { tier: 'web' },
      }),
      expect.objectContaining({
        id: ID2,
        type: 'k8s',
        runtime: 'docker',
        name: 'web',
        running: false,
        pid: 0,
        podName: 'web-7d4b9c',
        podNamespace: 'shop',
        podUid: 'dd1bf9d1-241d-47f5-8e25-12de83135812',
      }),
    ]);
    expect(list[0]?.startedAt).toBe(1_795_784_717_172_955_135n);
  });

  it('reads the event stream, lines split across chunks', async () => {
    const sock = await serve('docker.sock', (req, res) => {
      expect(req.url).toBe(`/events?filters=${encodeURIComponent('{"type":["container"]}')}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const a = JSON.stringify({
        status: 'start',
        id: ID1,
        Type: 'container',
        Action: 'start',
        Actor: { ID: ID1, Attributes: { name: 'dk1', image: 'local/bb:1' } },
        time: 1795784728,
      }).replace(/}$/, ',"timeNano":1795784728898346804}'); // as dockerd writes it, beyond 2^53
      const b = JSON.stringify({
        status: 'die',
        id: ID2,
        Type: 'container',
        Action: 'die',
        Actor: { ID: ID2, Attributes: { exitCode: '137', name: 'dk2' } },
      });
      res.write(a.slice(0, 40));
      setTimeout(() => res.write(`${a.slice(40)}\n${b}\n`), 20);
    });
    const got: RuntimeEvent[] = [];
    const s = watchDockerEvents(
      sock,
      500,
      (e) => got.push(e),
      (e) => got.push({ action: `error ${e.message}`, id: '', name: '', image: '', timeNano: 0n }),
    );
    await waitFor('two events', () => got.length >= 2);
    s.close();
    await s.ended;
    expect(got.map((e) => [e.action, e.id, e.name])).toEqual([
      ['start', ID1, 'dk1'],
      ['die', ID2, 'dk2'],
    ]);
    expect(got[0]?.image).toBe('local/bb:1');
  });
});

describe('Podman libpod API', () => {
  it('lists containers with their init pid in one call', async () => {
    const sock = await serve('podman.sock', (req, res) => {
      expect(req.url).toBe('/v4.0.0/libpod/containers/json?all=true');
      json(res, [
        {
          Id: ID2,
          Names: ['pm1'],
          Image: 'localhost/bb:latest',
          State: 'running',
          Pid: 27658,
          StartedAt: 1795784738,
          Labels: null,
          Pod: '',
          PodName: '',
        },
        {
          Id: ID1,
          Names: ['pm2'],
          Image: 'localhost/bb:latest',
          State: 'exited',
          Pid: 0,
          StartedAt: 1795784000,
          Labels: { a: 'b' },
          PodName: 'mypod',
        },
      ]);
    });
    const list = await listPodman(sock, 500);
    expect(list.map((c) => [c.id, c.name, c.state, c.running, c.pid, c.startedAt])).toEqual([
      [ID2, 'pm1', 'running', true, 27658, 1_795_784_738_000_000_000n],
      [ID1, 'pm2', 'exited', false, 0, 1_795_784_000_000_000_000n],
    ]);
    expect(list[1]?.labels).toEqual({ a: 'b', 'io.podman.pod.name': 'mypod' });
  });

  it('reads the libpod event stream', async () => {
    const sock = await serve('podman.sock', (req, res) => {
      expect(req.url?.startsWith('/v4.0.0/libpod/events?stream=true&filters=')).toBe(true);
      res.writeHead(200);
      res.write(
        `${JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: ID2, Attributes: { name: 'pm1', image: 'localhost/bb:latest' } }, timeNano: 1795784738000000000 })}\n`,
      );
    });
    const got: RuntimeEvent[] = [];
    const s = watchPodmanEvents(
      sock,
      500,
      (e) => got.push(e),
      () => undefined,
    );
    await waitFor('event', () => got.length >= 1);
    s.close();
    await s.ended;
    expect(got[0]).toMatchObject({ action: 'start', id: ID2, name: 'pm1', image: 'localhost/bb:latest' });
  });
});

describe('LXD REST API', () => {
  const instances = [
    {
      name: 'web1',
      project: 'default',
      type: 'container',
      status: 'Running',
      config: { 'image.description': 'Ubuntu jammy amd64 (20240101_07:42)', 'volatile.base_image': 'f00' },
      last_used_at: '2026-11-27T10:00:00.5Z',
      state: { status: 'Running', pid: 4242 },
    },
    {
      name: 'db',
      project: 'prod',
      type: 'container',
      status: 'Stopped',
      config: { 'image.os': 'Debian', 'image.release': 'bookworm' },
      state: { status: 'Stopped', pid: 0 },
    },
    {
      name: 'vm1',
      project: 'default',
      type: 'virtual-machine',
      status: 'Running',
      config: {},
      state: { pid: 777 },
    },
  ];

  it('lists containers of every project; VMs are skipped; liblxc names carry the project', async () => {
    const sock = await serve('unix.socket', (req, res) => {
      expect(req.url).toBe('/1.0/instances?recursion=2&all-projects=true');
      json(res, { type: 'sync', status: 'Success', status_code: 200, metadata: instances });
    });
    const list = await listLxd(sock, 500);
    expect(list.map((c) => [c.id, c.name, c.type, c.state, c.running, c.pid, c.image])).toEqual([
      ['web1', 'web1', 'lxd', 'running', true, 4242, 'Ubuntu jammy amd64 (20240101_07:42)'],
      ['prod_db', 'db', 'lxd', 'stopped', false, 0, 'Debian bookworm'],
    ]);
    expect(list[0]?.labels).toEqual({ 'lxd.project': 'default' });
    expect(list[0]?.startedAt).toBe(rfc3339ToNs('2026-11-27T10:00:00.5Z'));
  });

  it('falls back to the default project on servers without all-projects', async () => {
    const asked: string[] = [];
    const sock = await serve('unix.socket', (req, res) => {
      asked.push(req.url ?? '');
      if (req.url?.includes('all-projects'))
        return json(res, { type: 'error', error: 'unknown parameter', error_code: 400 }, 400);
      json(res, { type: 'sync', status: 'Success', status_code: 200, metadata: instances.slice(0, 1) });
    });
    expect((await listLxd(sock, 500)).map((c) => c.id)).toEqual(['web1']);
    expect(asked).toEqual(['/1.0/instances?recursion=2&all-projects=true', '/1.0/instances?recursion=2']);
  });

  it('makes an LXC cgroup match an LXD container', async () => {
    const fp = new FakeProc().host();
    try {
      fp.add({
        pid: 4241,
        ppid: 1,
        comm: 'lxc monitor',
        cgroup: hybridCgroup('/lxc.monitor.web1'),
        cmdline: ['[lxc monitor] /var/snap/lxd/common/lxd/containers web1'],
      });
      fp.add({
        pid: 4242,
        ppid: 4241,
        comm: 'systemd',
        cgroup: hybridCgroup('/lxc.payload.web1/init.scope'),
        ns: { pid: 4026532800 },
        nsPids: [4242, 1],
      });
      const sock = await serve('unix.socket', (_req, res) =>
        json(res, { type: 'sync', metadata: instances }),
      );
      const d = await discover({
        procRoot: fp.root,
        dockerSockets: [],
        podmanSockets: [],
        crioSockets: [],
        lxdSockets: [sock],
      });
      expect(d.containers).toHaveLength(1);
      expect(d.containers[0]).toMatchObject({
        key: 'lxd:web1',
        type: 'lxd',
        name: 'web1',
        initPid: 4242,
        image: 'Ubuntu jammy amd64 (20240101_07:42)',
      });
      expect(d.containers[0]?.sources).toEqual(['cgroup', 'parent', 'lxd-api']);
    } finally {
      fp.dispose();
    }
  });
});

describe('containers only a runtime API knows', () => {
  it('a running container in a cgroup no rule knows and the host pid namespace is built from the API pid', async () => {
    const fp = new FakeProc().host();
    try {
      fp.add({
        pid: 700,
        ppid: 1,
        comm: 'nginx',
        cgroup: hybridCgroup('/custom-parent/web'),
        ns: { mnt: 4026532999 },
      });
      fp.add({
        pid: 701,
        ppid: 700,
        comm: 'nginx',
        cgroup: hybridCgroup('/custom-parent/web'),
        ns: { mnt: 4026532999 },
      });
      const sock = await serve('docker.sock', (req, res) => {
        if (req.url === '/containers/json?all=1')
          return json(res, [{ Id: ID1, Names: ['/web'], Image: 'nginx', State: 'running', Labels: {} }]);
        json(res, { State: { Pid: 700, StartedAt: '2026-11-27T13:05:17Z' } });
      });
      const d = await discover({
        procRoot: fp.root,
        dockerSockets: [sock],
        podmanSockets: [],
        lxdSockets: [],
        crioSockets: [],
      });
      expect(d.containers).toHaveLength(1);
      expect(d.containers[0]).toMatchObject({
        key: `docker:${ID1}`,
        name: 'web',
        initPid: 700,
        pids: [700, 701],
        cgroupPath: '/custom-parent/web',
        sources: ['docker-api'],
      });
      expect(d.containers[0]?.ns.mnt).toBe(4026532999);
    } finally {
      fp.dispose();
    }
  });
});

describe('CRI-O inspect endpoint', () => {
  it('gives the pod identity from the labels', async () => {
    const sock = await serve('crio.sock', (req, res) => {
      expect(req.url).toBe(`/containers/${ID1}`);
      json(res, {
        name: 'k8s_web_web-7d4b9c_shop_dd1bf9d1-241d-47f5-8e25-12de83135812_0',
        pid: 5150,
        image: 'docker.io/library/nginx:1.25',
        image_ref: 'sha256:abc',
        created_time: 1795784700000000000,
        labels: {
          'io.kubernetes.container.name': 'web',
          'io.kubernetes.pod.name': 'web-7d4b9c',
          'io.kubernetes.pod.namespace': 'shop',
          'io.kubernetes.pod.uid': 'dd1bf9d1-241d-47f5-8e25-12de83135812',
        },
        annotations: { 'io.kubernetes.container.restartCount': '0' },
        sandbox: ID2,
      });
    });
    const c = await inspectCrio(sock, ID1, 500);
    expect(c).toMatchObject({
      type: 'k8s',
      runtime: 'cri-o',
      name: 'web',
      pid: 5150,
      image: 'docker.io/library/nginx:1.25',
      podName: 'web-7d4b9c',
      podNamespace: 'shop',
      podUid: 'dd1bf9d1-241d-47f5-8e25-12de83135812',
      running: true,
    });
  });

  it('is asked about CRI-O containers found by cgroup', async () => {
    const fp = new FakeProc().host();
    try {
      const slice =
        '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poddd1bf9d1_241d_47f5_8e25_12de83135812.slice';
      fp.add({
        pid: 5140,
        ppid: 1,
        comm: 'conmon',
        cgroup: hybridCgroup(`${slice}/crio-conmon-${ID1}.scope`),
      });
      fp.add({
        pid: 5150,
        ppid: 5140,
        comm: 'nginx',
        cgroup: hybridCgroup(`${slice}/crio-${ID1}.scope`),
        ns: { pid: 4026532900 },
        nsPids: [5150, 1],
      });
      const sock = await serve('crio.sock', (_req, res) =>
        json(res, {
          name: 'x',
          pid: 5150,
          image: 'nginx',
          labels: {
            'io.kubernetes.container.name': 'web',
            'io.kubernetes.pod.name': 'web-7d4b9c',
            'io.kubernetes.pod.namespace': 'shop',
            'io.kubernetes.pod.uid': 'dd1bf9d1-241d-47f5-8e25-12de83135812',
          },
        }),
      );
      const d = await discover({
        procRoot: fp.root,
        dockerSockets: [],
        podmanSockets: [],
        lxdSockets: [],
        crioSockets: [sock],
      });
      expect(d.containers).toHaveLength(1);
      expect(d.containers[0]).toMatchObject({
        type: 'k8s',
        runtime: 'cri-o',
        name: 'web',
        podName: 'web-7d4b9c',
        key: 'k8s:dd1bf9d1-241d-47f5-8e25-12de83135812/web',
        initPid: 5150,
      });
    } finally {
      fp.dispose();
    }
  });
});

describe('getJson: failures are typed, bounded in time, and degrade discovery to a warning', () => {
  it('times out on a server that never answers', async () => {
    const sock = await serve('hang.sock', () => undefined);
    const err = await getJson(sock, '/x', 150).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeApiError);
    expect((err as Error).message).toBe(`${sock} GET /x: no answer within 150 ms`);
  });

  it('reports HTTP errors with their status, and bodies that are not JSON', async () => {
    const sock = await serve('bad.sock', (req, res) => {
      if (req.url === '/500') return json(res, { message: 'boom' }, 500);
      res.writeHead(200);
      res.end('<html>');
    });
    const e500 = (await getJson(sock, '/500', 500).catch((e: unknown) => e)) as RuntimeApiError;
    expect(e500.status).toBe(500);
    expect(e500.message).toContain('HTTP 500');
    await expect(getJson(sock, '/html', 500)).rejects.toThrow('answer is not JSON');
    await expect(getJson(join(dir, 'absent.sock'), '/', 500)).rejects.toThrow('ENOENT');
  });

  it('a hanging Docker socket costs one timeout and a warning; the container is still found', async () => {
    const fp = new FakeProc().host();
    try {
      fp.add({
        pid: 4586,
        ppid: 1,
        comm: 'sh',
        cgroup: hybridCgroup(`/docker/${ID1}`),
        ns: { pid: 4026532183 },
        nsPids: [4586, 1],
      });
      const sock = await serve('hang.sock', () => undefined);
      const warnings: string[] = [];
      const d = await discover({
        procRoot: fp.root,
        dockerSockets: [sock],
        podmanSockets: [],
        lxdSockets: [],
        crioSockets: [],
        timeoutMs: 100,
        onWarning: (m) => warnings.push(m),
      });
      expect(warnings).toEqual([
        `docker: API at ${sock} failed (${sock} GET /containers/json?all=1: no answer within 100 ms); using cgroup rules only`,
      ]);
      expect(d.containers.map((c) => [c.type, c.id, c.initPid])).toEqual([['docker', ID1, 4586]]);
    } finally {
      fp.dispose();
    }
  });
});
