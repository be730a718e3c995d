/**
 * What the parent of a container's init tells about the container. Every runtime leaves a
 * process above the init (containerd shim, conmon, the LXC monitor, systemd-nspawn, unshare),
 * and its command line names the container. This works where the cgroup path does not (nspawn
 * with `--keep-unit`, custom cgroup parents) and gives names the cgroup path does not hold.
 */
import type { ContainerType } from './types.js';

export interface ParentHint {
  type: ContainerType;
  /** Container id ('' when the parent does not tell it). */
  id: string;
  name: string;
  /** containerd namespace (shims), '' otherwise. */
  namespace: string;
  /** OCI bundle directory (conmon `-b`), '' otherwise. */
  bundle: string;
  /** LXC path (`lxc.lxcpath`) of an LXC monitor, '' otherwise. */
  lxcPath: string;
  /** Root directory or image of systemd-nspawn (`-D` / `-i`), '' otherwise. */
  rootfs: string;
}

function hint(type: ContainerType, fields: Partial<ParentHint> = {}): ParentHint {
  return { type, id: '', name: '', namespace: '', bundle: '', lxcPath: '', rootfs: '', ...fields };
}

function basename(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t.slice(t.lastIndexOf('/') + 1);
}

/** Value of an option given as `-x v`, `-xv`, `--long v` or `--long=v` (first occurrence). */
export function optionValue(
  args: readonly string[],
  short: string | null,
  long: string | null,
): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') return null;
    if (long !== null) {
      if (a === long) return args[i + 1] ?? null;
      if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    }
    if (short !== null) {
      if (a === short) return args[i + 1] ?? null;
      if (a.startsWith(short) && !a.startsWith('--') && a.length > short.length) return a.slice(short.length);
    }
  }
  return null;
}

/**
 * The hint given by a parent process, from its `comm` and command line (`argv`), or null when
 * the parent is no runtime we know.
 */
export function parentHint(comm: string, argv: readonly string[]): ParentHint | null {
  const arg0 = argv[0] ?? '';
  const exe = basename(arg0);

  // LXC >= 1.0 monitor: argv is rewritten to the single string `[lxc monitor] <lxcpath> <name>`.
  if (arg0.startsWith('[lxc monitor] ')) {
    const rest = arg0.slice('[lxc monitor] '.length).trim();
    const sp = rest.lastIndexOf(' ');
    if (sp < 0) return hint('lxc', { id: rest, name: rest });
    const name = rest.slice(sp + 1);
    return hint('lxc', { id: name, name, lxcPath: rest.slice(0, sp) });
  }
  if (exe === 'lxc-start' || comm === 'lxc-start') {
    const name = optionValue(argv.slice(1), '-n', '--name');
    if (name !== null) {
      const lxcPath = optionValue(argv.slice(1), '-P', '--lxcpath') ?? '';
      return hint('lxc', { id: name, name, lxcPath });
    }
  }

  // containerd shims: `containerd-shim-runc-v2 -namespace moby -id <id> -address ...`.
  if (exe.startsWith('containerd-shim') || comm.startsWith('containerd-shim')) {
    const rest = argv.slice(1);
    const ns = optionValue(rest, '-namespace', '--namespace') ?? '';
    const id = optionValue(rest, '-id', '--id') ?? '';
    // Docker's containerd namespace is `moby`; the kubelet's is `k8s.io`, where one shim serves a
    // whole pod and its `-id` is the sandbox's, not the container's.
    if (ns === 'moby') return hint('docker', { id, namespace: ns });
    if (ns === 'k8s.io') return hint('k8s', { namespace: ns });
    return hint('containerd', { id, namespace: ns });
  }

  // conmon (Podman and CRI-O): `conmon ... -c <id> -n <name> -b <bundle> ... --exit-command <podman>`.
  if (exe === 'conmon' || comm === 'conmon') {
    const rest = argv.slice(1);
    const id = optionValue(rest, '-c', '--cid') ?? '';
    const name = optionValue(rest, '-n', '--name') ?? '';
    const bundle = optionValue(rest, '-b', '--bundle') ?? '';
    const exitCmd = optionValue(rest, null, '--exit-command') ?? '';
    const crio = exitCmd === '' && rest.some((a) => a.includes('/crio/') || a.includes('/crio-'));
    return hint(crio ? 'cri-o' : 'podman', { id, name: crio ? '' : name, bundle });
  }

  // systemd-nspawn: the machine name is -M/--machine, else the basename of -D/--directory or -i/--image.
  if (exe === 'systemd-nspawn' || comm === 'systemd-nspawn') {
    const rest = argv.slice(1);
    const dir = optionValue(rest, '-D', '--directory');
    const image = optionValue(rest, '-i', '--image');
    const rootfs = dir ?? image ?? '';
    let name = optionValue(rest, '-M', '--machine') ?? '';
    if (name === '' && rootfs !== '') name = basename(rootfs).replace(/\.raw$/, '');
    return hint('nspawn', { id: name, name, rootfs });
  }

  if (exe === 'unshare' || comm === 'unshare') return hint('unshare');
  return null;
}
