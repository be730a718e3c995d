/**
 * Which container a process belongs to, from its cgroup path, by one rule per runtime.
 *
 * A path is walked from the leaf up; the deepest component that names a container wins (so a
 * Kubernetes container inside a kind node, `/docker/<node>/kubepods/.../<id>`, is the pod's
 * container, and a process in a sub-cgroup of a container, `/lxc.payload.c1/system.slice/x`,
 * belongs to the container). Helper cgroups of the runtimes (conmon, the LXC monitor, the
 * nspawn supervisor) name no container. The rules and the example paths they were checked on are
 * listed in docs/adr/0120-container-discovery.md.
 */
import type { ContainerType } from './types.js';

/** One line of `/proc/<pid>/cgroup`: `hierarchy-ID:controller-list:cgroup-path`. */
export interface CgroupLine {
  hierarchy: number;
  /** Comma-separated controllers (`cpu,cpuacct`, `name=systemd`, '' for the unified hierarchy). */
  controllers: string;
  path: string;
}

export function parseProcCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    const hierarchy = Number(line.slice(0, a));
    if (!Number.isInteger(hierarchy)) continue;
    // The path may itself contain ':' (`...slice:cri-containerd:<id>`): it is everything after the 2nd ':'.
    out.push({ hierarchy, controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return out;
}

/** The cgroup path that represents a process: unified `0::` if present, else `name=systemd`, else the first. */
export function representativeCgroupPath(lines: readonly CgroupLine[]): string {
  const unified = lines.find((l) => l.hierarchy === 0 && l.controllers === '');
  if (unified) return unified.path;
  const sd = lines.find((l) => l.controllers.split(',').includes('name=systemd'));
  if (sd) return sd.path;
  return lines[0]?.path ?? '';
}

export interface CgroupMatch {
  type: ContainerType;
  /** The engine (`docker`, `podman`, `containerd`, `cri-o`, `lxc`, `nspawn`, ...; '' when the path does not tell). */
  runtime: string;
  /** The runtime's id as the path gives it: 64-hex for OCI engines, the name for LXC/nspawn. */
  id: string;
  /** The name when the path gives it (LXC, nspawn, libvirt-lxc), else ''. */
  name: string;
  /** Kubernetes pod uid (with dashes) when the path is inside a pod cgroup, else ''. */
  podUid: string;
  /** The container's own cgroup: the path up to and including the component that named it. */
  cgroup: string;
  /** Which rule matched (for diagnostics and tests). */
  rule: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const POD_UID = '([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})';
/** `pod<uid>` (cgroupfs driver) or `kubepods[-<qos>]-pod<uid>.slice` (systemd driver). */
const POD_COMPONENT = new RegExp(`^(?:pod${POD_UID}|kubepods(?:-[a-z]+)?-pod${POD_UID}\\.slice)$`);
const POD_IN_SLICE = new RegExp(`kubepods(?:-[a-z]+)?-pod${POD_UID}\\.slice`);
const PREFIXED = /^(docker|libpod|crio|cri-containerd|nerdctl)-([0-9a-f]{64})(\.scope)?$/;
const HELPER_PREFIXED = /^(libpod-conmon|crio-conmon)-[0-9a-f]{64}(\.scope)?$/;
const MACHINE_SCOPE = /^machine-(.+)\.scope$/;
const NSPAWN_SERVICE = /^systemd-nspawn@(.+)\.service$/;

/** Undo systemd unit-name escaping (`\x2d` -> `-`). */
export function unescapeSystemd(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function podUidOf(parts: readonly string[], upto: number): string {
  for (let i = upto; i >= 0; i--) {
    const m = POD_COMPONENT.exec(parts[i] ?? '');
    if (m) return normalizeUid(m[1] ?? m[2] ?? '');
  }
  return '';
}

function normalizeUid(u: string): string {
  return u.replace(/_/g, '-');
}

type ComponentResult = Omit<CgroupMatch, 'cgroup'> | 'helper' | null;

const ENGINE_OF_PREFIX: Record<string, ContainerType> = {
  docker: 'docker',
  libpod: 'podman',
  crio: 'cri-o',
  'cri-containerd': 'containerd',
  nerdctl: 'containerd',
};

function matchComponent(parts: readonly string[], i: number): ComponentResult {
  const c = parts[i] ?? '';
  const parent = i > 0 ? (parts[i - 1] ?? '') : '';
  if (c === '') return null;

  if (HELPER_PREFIXED.test(c)) return 'helper';

  // <engine>-<64hex>[.scope]: Docker/Podman/CRI-O/containerd/nerdctl, systemd or cgroupfs drivers.
  let m = PREFIXED.exec(c);
  if (m) {
    const prefix = m[1] ?? '';
    const id = m[2] ?? '';
    const engine = ENGINE_OF_PREFIX[prefix] ?? 'oci';
    const podUid = podUidOf(parts, i - 1);
    if (podUid !== '') return { type: 'k8s', runtime: engine, id, name: '', podUid, rule: `${prefix}-pod` };
    return { type: engine, runtime: engine, id, name: '', podUid: '', rule: prefix };
  }

  // containerd's CRI plugin without `SystemdCgroup = true` on a systemd host:
  // `kubepods-<qos>-pod<uid>.slice:cri-containerd:<64hex>` as one component.
  const cc = c.indexOf(':cri-containerd:');
  if (cc >= 0) {
    const id = c.slice(cc + ':cri-containerd:'.length);
    if (!HEX64.test(id)) return null;
    const pm = POD_IN_SLICE.exec(c.slice(0, cc));
    const podUid = pm ? normalizeUid(pm[1] ?? '') : podUidOf(parts, i - 1);
    if (podUid !== '')
      return { type: 'k8s', runtime: 'containerd', id, name: '', podUid, rule: 'cri-containerd-colon-pod' };
    return {
      type: 'containerd',
      runtime: 'containerd',
      id,
      name: '',
      podUid: '',
      rule: 'cri-containerd-colon',
    };
  }

  // A bare 64-hex component: whose it is depends on where it sits.
  if (HEX64.test(c)) {
    const podUid = podUidOf(parts, i - 1);
    if (podUid !== '')
      return { type: 'k8s', runtime: '', id: c, name: '', podUid, rule: 'kubepods-cgroupfs' };
    if (parent === 'docker' || parent === 'actions_job')
      return { type: 'docker', runtime: 'docker', id: c, name: '', podUid: '', rule: 'docker-cgroupfs' };
    // Rootless Podman with cgroupfs: `.../podman-<pid>.scope/<id>`, or any id under `user@<uid>.service`.
    if (/^podman-\d+\.scope$/.test(parent) || parts.slice(0, i).some((p) => /^user@\d+\.service$/.test(p)))
      return { type: 'podman', runtime: 'podman', id: c, name: '', podUid: '', rule: 'podman-rootless' };
    return { type: 'oci', runtime: '', id: c, name: '', podUid: '', rule: 'bare-id' };
  }

  // containerd `ctr` in its `default` namespace: `/default/<id>` (any id the user chose).
  if (
    i === 2 &&
    parts[0] === '' &&
    parent === 'default' &&
    !/\.(service|slice|scope)$/.test(c) &&
    c.length <= 64
  )
    return {
      type: 'containerd',
      runtime: 'containerd',
      id: c,
      name: '',
      podUid: '',
      rule: 'containerd-default-ns',
    };

  // libvirt-lxc without systemd: `/libvirt/lxc/<name>` and `<name>.libvirt-lxc`.
  if (parent === 'lxc' && i >= 2 && parts[i - 2] === 'libvirt')
    return { type: 'libvirt-lxc', runtime: 'libvirt-lxc', id: c, name: c, podUid: '', rule: 'libvirt-lxc' };
  if (c.endsWith('.libvirt-lxc')) {
    const n = c.slice(0, -'.libvirt-lxc'.length);
    return { type: 'libvirt-lxc', runtime: 'libvirt-lxc', id: n, name: n, podUid: '', rule: 'libvirt-lxc' };
  }

  // LXC / LXD (liblxc): `lxc.payload.<name>` (LXC >= 4), `lxc.payload/<name>` (3.x), `lxc/<name>` (1.x, 2.x);
  // `lxc.monitor.<name>` / `lxc.monitor/<name>` hold the monitor, `lxc.pivot` is a leftover.
  if (c.startsWith('lxc.monitor') || parent.startsWith('lxc.monitor') || c === 'lxc.pivot') return 'helper';
  if (c.startsWith('lxc.payload.')) {
    const name = c.slice('lxc.payload.'.length);
    return { type: 'lxc', runtime: 'lxc', id: name, name, podUid: '', rule: 'lxc-payload' };
  }
  if (parent === 'lxc.payload' || parent === 'lxc')
    return {
      type: 'lxc',
      runtime: 'lxc',
      id: c,
      name: c,
      podUid: '',
      rule: parent === 'lxc' ? 'lxc-v1' : 'lxc-payload-dir',
    };

  // systemd-machined scopes (`machine-<name>.scope`, what systemd-nspawn and libvirt register),
  // and the `systemd-nspawn@<name>.service` template unit (which runs nspawn with --keep-unit).
  m = MACHINE_SCOPE.exec(c);
  if (m) {
    const name = unescapeSystemd(m[1] ?? '');
    const lv = /^lxc-\d+-(.+)$/.exec(name);
    if (lv) {
      const n = lv[1] ?? '';
      return {
        type: 'libvirt-lxc',
        runtime: 'libvirt-lxc',
        id: n,
        name: n,
        podUid: '',
        rule: 'machine-libvirt-lxc',
      };
    }
    if (/^qemu-\d+-/.test(name)) return 'helper'; // a virtual machine, not a container
    return { type: 'nspawn', runtime: 'nspawn', id: name, name, podUid: '', rule: 'machine-scope' };
  }
  m = NSPAWN_SERVICE.exec(c);
  if (m) {
    const name = unescapeSystemd(m[1] ?? '');
    return { type: 'nspawn', runtime: 'nspawn', id: name, name, podUid: '', rule: 'nspawn-service' };
  }

  return null;
}

/** The container a cgroup path belongs to, or null (host, helper cgroup, unknown layout). */
export function matchCgroupPath(path: string): CgroupMatch | null {
  const r = classifyPath(path);
  return r === 'helper' ? null : r;
}

/** Like `matchCgroupPath`, but tells a runtime's helper cgroup ('helper') from no match (null). */
export function classifyPath(path: string): CgroupMatch | 'helper' | null {
  const parts = path.split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const c = parts[i] ?? '';
    // The nspawn supervisor process sits in `<machine cgroup>/supervisor`: not the container.
    if (
      c === 'supervisor' &&
      i > 0 &&
      (MACHINE_SCOPE.test(parts[i - 1] ?? '') || NSPAWN_SERVICE.test(parts[i - 1] ?? ''))
    )
      return 'helper';
    const r = matchComponent(parts, i);
    if (r === 'helper') return 'helper';
    if (r !== null) return { ...r, cgroup: parts.slice(0, i + 1).join('/') || '/' };
  }
  return null;
}

/**
 * The container of a process from all its cgroup lines. The lines are tried in the order of
 * `representativeCgroupPath` (unified, `name=systemd`, then the controllers in file order): the
 * unified and `name=systemd` hierarchies are the ones systemd-nspawn and most runtimes always
 * place, while v1 controller paths may be inherited from the caller. A line that puts the
 * process in a runtime's helper cgroup (conmon, LXC monitor, nspawn supervisor) ends the search.
 */
export function matchCgroupLines(lines: readonly CgroupLine[]): CgroupMatch | null {
  const isUnified = (l: CgroupLine): boolean => l.hierarchy === 0 && l.controllers === '';
  const isSystemd = (l: CgroupLine): boolean => l.controllers.split(',').includes('name=systemd');
  const ordered = [
    ...lines.filter(isUnified),
    ...lines.filter(isSystemd),
    ...lines.filter((l) => !isUnified(l) && !isSystemd(l)),
  ];
  for (const l of ordered) {
    const m = classifyPath(l.path);
    if (m === 'helper') return null;
    if (m) return m;
  }
  return null;
}
