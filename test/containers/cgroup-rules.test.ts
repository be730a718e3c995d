/**
 * Cgroup path rules, on cgroup lines taken from the runtimes' own documentation, other tools'
 * test data, and this machine (docs/research/runtimes.md). Each case names its source:
 *
 * - [nv]     neuvector/neuvector share/system/cgroup_test.go @0553cd33 (Apache-2.0)
 * - [spire]  spiffe/spire pkg/agent/plugin/workloadattestor/k8s/k8s_posix_test.go @9dd48343 (Apache-2.0)
 * - [beats]  elastic/beats libbeat/processors/add_process_metadata/add_process_metadata_test.go
 *            @38f971c9, TestDefaultCgroupRegex (Apache-2.0)
 * - [falco]  falcosecurity/libs userspace/libsinsp container engines (podman.cpp comments,
 *            libvirt_lxc.cpp) @9ab23531, as summarised in docs/research/anchors.md §4.1
 * - [runc]   opencontainers/runc libcontainer/cgroups/systemd/v2.go (comment on the rootless path)
 * - [ocp]    an OpenShift cAdvisor metric `id` label (static pod, 32-hex uid), found by code search
 * - [here]   captured on this machine: docker.io 20.10, podman 4.3 (runc, cgroupfs), LXC 5.0,
 *            systemd-nspawn 252, unshare (docs/research/runtimes.md and the integration tests)
 * Kubernetes cgroup layouts: kubelet's cgroupfs driver `/kubepods[/<qos>]/pod<uid>/<id>` and
 * systemd driver `kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid with _>.slice/<engine>-<id>.scope`.
 */
import { describe, expect, it } from 'vitest';
import {
  classifyPath,
  matchCgroupLines,
  matchCgroupPath,
  parseProcCgroup,
  representativeCgroupPath,
  unescapeSystemd,
} from '../../src/containers/cgroup-rules.js';

interface Case {
  src: string;
  path: string;
  type?: string;
  runtime?: string;
  id?: string;
  name?: string;
  podUid?: string;
  cgroup?: string;
}

const cases: Case[] = [
  // ---- Docker
  {
    src: '[nv] Ubuntu',
    path: '/docker/31cb02944da7a12196a193cf0e0f6c226d7c453a1db62e65ba98287593a2ee30',
    type: 'docker',
    id: '31cb02944da7a12196a193cf0e0f6c226d7c453a1db62e65ba98287593a2ee30',
  },
  {
    src: '[nv] CentOS, systemd driver',
    path: '/system.slice/docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope',
    type: 'docker',
    id: '9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d',
  },
  {
    src: '[nv] RancherOS, docker in docker: the inner container',
    path: '/docker/a9a5ad238e59234193ee7ec3fcff5e735b3708ea1068826952255b69e3cfa413/docker/ec08435e04266c5ba381fccbb829f626d11d8ddf5f8f547263c7a2d79ab4787a',
    type: 'docker',
    id: 'ec08435e04266c5ba381fccbb829f626d11d8ddf5f8f547263c7a2d79ab4787a',
    cgroup:
      '/docker/a9a5ad238e59234193ee7ec3fcff5e735b3708ea1068826952255b69e3cfa413/docker/ec08435e04266c5ba381fccbb829f626d11d8ddf5f8f547263c7a2d79ab4787a',
  },
  {
    src: '[nv] Debian, a bare id at the root: an OCI container of unknown engine',
    path: '/4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970',
    type: 'oci',
    runtime: '',
    id: '4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970',
  },
  {
    src: '[beats] docker',
    path: '/docker/485776c9f6f2c22e2b44a2239b65471d6a02701b54d1cb5e1c55a09108a1b5b9',
    type: 'docker',
    id: '485776c9f6f2c22e2b44a2239b65471d6a02701b54d1cb5e1c55a09108a1b5b9',
  },
  {
    src: '[here] docker.io 20.10, cgroupfs driver',
    path: '/docker/72151856668b2b768929378a2641e9124def57be8a5707182bdf4711c64ecadf',
    type: 'docker',
    runtime: 'docker',
    id: '72151856668b2b768929378a2641e9124def57be8a5707182bdf4711c64ecadf',
    cgroup: '/docker/72151856668b2b768929378a2641e9124def57be8a5707182bdf4711c64ecadf',
  },
  // ---- Kubernetes, cgroupfs driver
  {
    src: '[nv] Kubepods besteffort',
    path: '/kubepods/besteffort/pod74ba62da-1a3d-11e7-bb11-080027cb0e22/cb1eadb7abe3a6545e9856411207073277838e1bdc003337c2f8685faeedc32c',
    type: 'k8s',
    runtime: '',
    id: 'cb1eadb7abe3a6545e9856411207073277838e1bdc003337c2f8685faeedc32c',
    podUid: '74ba62da-1a3d-11e7-bb11-080027cb0e22',
  },
  {
    src: '[spire] without QoS',
    path: '/kubepods/pod2c48913c-b29f-11e7-9350-020968147796/9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961',
    type: 'k8s',
    id: '9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961',
    podUid: '2c48913c-b29f-11e7-9350-020968147796',
  },
  {
    src: '[spire] burstable QoS',
    path: '/kubepods/burstable/pod2c48913c-b29f-11e7-9350-020968147796/34a2062fd26c805aa8cf814cdfe479322b791f80afb9ea4db02d50375df14b41',
    type: 'k8s',
    id: '34a2062fd26c805aa8cf814cdfe479322b791f80afb9ea4db02d50375df14b41',
    podUid: '2c48913c-b29f-11e7-9350-020968147796',
  },
  {
    src: '[spire] pod uid with underscores is canonicalised',
    path: '/kubepods/pod2c48913c_b29f_11e7_9350_020968147796/9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961',
    type: 'k8s',
    podUid: '2c48913c-b29f-11e7-9350-020968147796',
  },
  {
    src: '[spire] kind: a pod container inside a kind node (itself a docker container)',
    path: '/docker/93529524695bb00d91c1f6dba692ea8d3550c3b94fb2463af7bc9ec82f992d26/kubepods/besteffort/poda2830d0d-b0f0-4ff0-81b5-0ee4e299cf80/09bc3d7ade839efec32b6bec4ec79d099027a668ddba043083ec21d3c3b8f1e6',
    type: 'k8s',
    id: '09bc3d7ade839efec32b6bec4ec79d099027a668ddba043083ec21d3c3b8f1e6',
    podUid: 'a2830d0d-b0f0-4ff0-81b5-0ee4e299cf80',
  },
  {
    src: '[spire] seen from another cgroup namespace',
    path: '/../../../burstable/pod095e82d2-713c-467a-a18a-cbb50a075296/6d1234da0f5aa7fa0ccae4c7d2d109929eb9a81694e6357bcd4547ab3985911b',
    type: 'k8s',
    id: '6d1234da0f5aa7fa0ccae4c7d2d109929eb9a81694e6357bcd4547ab3985911b',
    podUid: '095e82d2-713c-467a-a18a-cbb50a075296',
  },
  {
    src: '[nv] kube-proxy in a sub-cgroup of its container',
    path: '/kubepods/besteffort/podf8a694f2-7c08-11e9-98da-000c29077430/c04e0a88a1de067f25bece337d4dbb897396e0b623c2a65330850fc9823f1903/kube-proxy',
    type: 'k8s',
    id: 'c04e0a88a1de067f25bece337d4dbb897396e0b623c2a65330850fc9823f1903',
    podUid: 'f8a694f2-7c08-11e9-98da-000c29077430',
    cgroup:
      '/kubepods/besteffort/podf8a694f2-7c08-11e9-98da-000c29077430/c04e0a88a1de067f25bece337d4dbb897396e0b623c2a65330850fc9823f1903',
  },
  // ---- Kubernetes, systemd driver
  {
    src: '[nv] Kubepods2: systemd driver with dockershim',
    path: '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod045b1e35_7f13_11e7_ac42_0050568ffca0.slice/docker-b5b6f2da8008be266864f896f93789762b2ce50792114a5c5f2cc3315af0bc70.scope',
    type: 'k8s',
    runtime: 'docker',
    id: 'b5b6f2da8008be266864f896f93789762b2ce50792114a5c5f2cc3315af0bc70',
    podUid: '045b1e35-7f13-11e7-ac42-0050568ffca0',
  },
  {
    src: '[nv] Bottlerocket: containerd, systemd driver',
    path: '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poddd1bf9d1_241d_47f5_8e25_12de83135812.slice/cri-containerd-f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830.scope',
    type: 'k8s',
    runtime: 'containerd',
    id: 'f45298cd514d1930c4fe3afc4412e59547f7e3148fddd22ca33cefce046eb830',
    podUid: 'dd1bf9d1-241d-47f5-8e25-12de83135812',
  },
  {
    src: '[beats] kubernetes-cri-containerd',
    path: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2d5133c0_65f3_40b2_b375_c04866d418e1.slice/cri-containerd-e01a26336924e2fb8089bcf4cf943954fd9ea616cc5678f38f65928307979459.scope',
    type: 'k8s',
    runtime: 'containerd',
    id: 'e01a26336924e2fb8089bcf4cf943954fd9ea616cc5678f38f65928307979459',
    podUid: '2d5133c0-65f3-40b2-b375-c04866d418e1',
  },
  {
    src: '[beats] kubernetes-crio',
    path: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod69349abe_d645_11ea_9c4c_08002709c05c.slice/crio-80d85a3a585f1575028ebe468d83093c301eda20d37d1671ff2a0be50fc0e460.scope',
    type: 'k8s',
    runtime: 'cri-o',
    id: '80d85a3a585f1575028ebe468d83093c301eda20d37d1671ff2a0be50fc0e460',
    podUid: '69349abe-d645-11ea-9c4c-08002709c05c',
  },
  {
    src: '[nv] OpenShift 4.6 CRI-O',
    path: '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod8ca306fa_3c03_47fa_97dd_19979c345572.slice/crio-d6d725b909f37c3e232aadfbafa950a58bfe7baa579ba8c47a12be88bb921607.scope',
    type: 'k8s',
    runtime: 'cri-o',
    id: 'd6d725b909f37c3e232aadfbafa950a58bfe7baa579ba8c47a12be88bb921607',
    podUid: '8ca306fa-3c03-47fa-97dd-19979c345572',
  },
  {
    src: '[ocp] static pod (32-hex uid), CRI-O',
    path: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pode4e6004e827fdf45941cf777618f60ce.slice/crio-192f5a90b165665d969bb0137b8573f2214c8f75b728ecc58dbbc7fccd64af28.scope',
    type: 'k8s',
    runtime: 'cri-o',
    id: '192f5a90b165665d969bb0137b8573f2214c8f75b728ecc58dbbc7fccd64af28',
    podUid: 'e4e6004e827fdf45941cf777618f60ce',
  },
  {
    src: '[spire] systemd driver with QoS and docker, pod uid with dashes',
    path: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c48913c-b29f-11e7-9350-020968147796.slice/docker-9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961.scope',
    type: 'k8s',
    runtime: 'docker',
    podUid: '2c48913c-b29f-11e7-9350-020968147796',
  },
  {
    src: '[spire] containerd without SystemdCgroup: the `:cri-containerd:` form',
    path: '/kubepods-besteffort-pod72f7f152_440c_66ac_9084_e0fc1d8a910c.slice:cri-containerd:b2a102854b4969b2ce98dc329c86b4fb2b06e4ad2cc8da9d8a7578c9cd2004a2',
    type: 'k8s',
    runtime: 'containerd',
    id: 'b2a102854b4969b2ce98dc329c86b4fb2b06e4ad2cc8da9d8a7578c9cd2004a2',
    podUid: '72f7f152-440c-66ac-9084-e0fc1d8a910c',
  },
  {
    src: '[spire] CRI-O seen from a cgroup namespace, no pod in the path',
    path: '/../crio-45490e76e0878aaa4d9808f7d2eefba37f093c3efbba9838b6d8ab804d9bd814.scope',
    type: 'cri-o',
    runtime: 'cri-o',
    id: '45490e76e0878aaa4d9808f7d2eefba37f093c3efbba9838b6d8ab804d9bd814',
    podUid: '',
  },
  // ---- Podman
  {
    src: '[falco] podman root, systemd driver',
    path: '/machine.slice/libpod-0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86.scope/container',
    type: 'podman',
    id: '0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86',
    cgroup: '/machine.slice/libpod-0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86.scope',
  },
  {
    src: '[falco] podman rootless, systemd driver',
    path: '/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86.scope/container',
    type: 'podman',
    id: '0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86',
  },
  {
    src: '[runc] podman rootless (runc systemd v2 manager comment)',
    path: '/user.slice/user-1001.slice/user@1001.service/user.slice/libpod-132ff0d72245e6f13a3bbc6cdc5376886897b60ac59eaa8dea1df7ab959cbf1c.scope',
    type: 'podman',
    id: '132ff0d72245e6f13a3bbc6cdc5376886897b60ac59eaa8dea1df7ab959cbf1c',
  },
  {
    src: '[falco] podman rootless, cgroupfs: `podman-<pid>.scope/<id>`',
    path: '/user.slice/user-1000.slice/user@1000.service/podman-4242.scope/0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86',
    type: 'podman',
    id: '0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86',
  },
  {
    src: '[here] podman 4.3, runc, cgroupfs driver',
    path: '/libpod_parent/libpod-0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86',
    type: 'podman',
    runtime: 'podman',
    id: '0aab0696a8ce205c0f16b92724bbe9ef733564b3f70ea89cbf923b8203d46a86',
  },
  // ---- containerd outside Kubernetes
  {
    src: '[falco] containerd ctr, default namespace',
    path: '/default/redis-server',
    type: 'containerd',
    id: 'redis-server',
  },
  {
    src: 'nerdctl, systemd driver',
    path: '/system.slice/nerdctl-3f2a1b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4.scope',
    type: 'containerd',
    id: '3f2a1b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4',
  },
  // ---- LXC / LXD
  { src: '[here] LXC 5.0', path: '/lxc.payload.lxbb', type: 'lxc', id: 'lxbb', name: 'lxbb' },
  {
    src: '[falco] LXC with systemd inside (sub-cgroup)',
    path: '/lxc.payload.web1/system.slice/nginx.service',
    type: 'lxc',
    name: 'web1',
    cgroup: '/lxc.payload.web1',
  },
  { src: '[falco] LXC 3.x', path: '/lxc.payload/web1', type: 'lxc', name: 'web1' },
  { src: '[falco] LXC 1.x/2.x', path: '/lxc/web1', type: 'lxc', name: 'web1' },
  {
    src: 'LXD project instance (liblxc name <project>_<name>)',
    path: '/lxc.payload.prod_web1',
    type: 'lxc',
    name: 'prod_web1',
  },
  // ---- systemd-nspawn / machined / libvirt
  {
    src: '[here] nspawn in a machine scope (v1 controllers)',
    path: '/machine.slice/machine-nsdeb2.scope',
    type: 'nspawn',
    id: 'nsdeb2',
    name: 'nsdeb2',
  },
  {
    src: '[here] nspawn in a machine scope (unified and name=systemd)',
    path: '/machine.slice/machine-nsdeb2.scope/payload',
    type: 'nspawn',
    name: 'nsdeb2',
    cgroup: '/machine.slice/machine-nsdeb2.scope',
  },
  {
    src: 'systemd-nspawn@.service (machine name systemd-escaped)',
    path: '/machine.slice/systemd-nspawn@my\\x2dbox.service/payload/system.slice/cron.service',
    type: 'nspawn',
    name: 'my-box',
  },
  {
    src: '[falco] libvirt-lxc, systemd',
    path: '/machine.slice/machine-lxc\\x2d2293906\\x2dlibvirt\\x2dcontainer.scope',
    type: 'libvirt-lxc',
    name: 'libvirt-container',
  },
  { src: '[falco] libvirt-lxc, legacy', path: '/libvirt/lxc/guest1', type: 'libvirt-lxc', name: 'guest1' },
];

/** Paths that name no container (host processes, runtime helpers, VMs, unknown layouts). */
const none: { src: string; path: string; helper?: boolean }[] = [
  { src: '[nv] host process', path: '/' },
  { src: '[nv] a login session', path: '/user/1000.user/c2.session' },
  {
    src: '[spire] a pod cgroup with no container segment',
    path: '/kubepods/poda2830d0d-b0f0-4ff0-81b5-0ee4e299cf80',
  },
  { src: '[here] our own shell', path: '/process_api/a6b78b37db737b62790107ae1f828444' },
  { src: '[here] podman conmon (cgroupfs)', path: '/libpod_parent/conmon' },
  {
    src: '[beats] podman conmon scope',
    path: '/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-ee059a097566fdc5ac9141bfcdfbed0c972163da891de076e0849d7b53597aac.scope',
    helper: true,
  },
  {
    src: 'CRI-O conmon scope',
    path: '/kubepods.slice/kubepods-pod8ca306fa_3c03_47fa_97dd_19979c345572.slice/crio-conmon-d6d725b909f37c3e232aadfbafa950a58bfe7baa579ba8c47a12be88bb921607.scope',
    helper: true,
  },
  { src: '[here] LXC monitor', path: '/lxc.monitor.lx1', helper: true },
  { src: '[here] LXC leftover', path: '/lxc.pivot', helper: true },
  { src: '[here] nspawn supervisor', path: '/machine.slice/machine-nsdeb2.scope/supervisor', helper: true },
  { src: '[here] nspawn --keep-unit from the root cgroup', path: '/payload' },
  { src: '[here] unshare in a hand-made cgroup', path: '/unshare/uc1' },
  { src: 'libvirt qemu VM', path: '/machine.slice/machine-qemu\\x2d1\\x2dwin10.scope', helper: true },
  { src: 'a plain service', path: '/system.slice/docker.service' },
  { src: 'a short hex name is no id', path: '/docker/72151856668b' },
];

describe('matchCgroupPath', () => {
  for (const c of cases) {
    it(`${c.src}: ${c.path}`, () => {
      const m = matchCgroupPath(c.path);
      expect(m).not.toBeNull();
      if (!m) return;
      if (c.type !== undefined) expect(m.type).toBe(c.type);
      if (c.runtime !== undefined) expect(m.runtime).toBe(c.runtime);
      if (c.id !== undefined) expect(m.id).toBe(c.id);
      if (c.name !== undefined) expect(m.name).toBe(c.name);
      if (c.podUid !== undefined) expect(m.podUid).toBe(c.podUid);
      if (c.cgroup !== undefined) expect(m.cgroup).toBe(c.cgroup);
      // The container's own cgroup is a prefix of the process's path.
      expect(c.path.startsWith(m.cgroup)).toBe(true);
    });
  }
  for (const n of none) {
    it(`no container: ${n.src}: ${n.path}`, () => {
      expect(matchCgroupPath(n.path)).toBeNull();
      expect(classifyPath(n.path)).toBe(n.helper === true ? 'helper' : null);
    });
  }
});

describe('parseProcCgroup / matchCgroupLines', () => {
  it('[nv] CentOS v1 lines, including a combined `cpuacct,cpu` hierarchy', () => {
    const text = [
      '10:devices:/system.slice/docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope',
      '2:cpuacct,cpu:/system.slice/docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope',
      '1:name=systemd:/system.slice/docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope',
    ].join('\n');
    const lines = parseProcCgroup(text);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toEqual({
      hierarchy: 2,
      controllers: 'cpuacct,cpu',
      path: '/system.slice/docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope',
    });
    expect(representativeCgroupPath(lines)).toBe(lines[2]?.path);
    expect(matchCgroupLines(lines)?.id).toBe(
      '9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d',
    );
  });

  it('keeps the colons of a `:cri-containerd:` path', () => {
    // [spire] / opentelemetry-java-contrib resource test: containerd on systemd without SystemdCgroup.
    const line =
      '11:devices:/system.slice/containerd.service/kubepods-pod87a18a64_b74a_454a_b10b_a4a36059d0a3.slice:cri-containerd:05c48c82caff3be3d7f1e896981dd410e81487538936914f32b624d168de9db0';
    const lines = parseProcCgroup(line);
    expect(lines[0]?.path).toBe(line.slice('11:devices:'.length));
    const m = matchCgroupLines(lines);
    expect(m?.type).toBe('k8s');
    expect(m?.podUid).toBe('87a18a64-b74a-454a-b10b-a4a36059d0a3');
    expect(m?.id).toBe('05c48c82caff3be3d7f1e896981dd410e81487538936914f32b624d168de9db0');
  });

  it('[here] nspawn via a machine scope: the payload is the container, the supervisor is not', () => {
    const payload = parseProcCgroup(
      [
        '9:name=systemd:/machine.slice/machine-nsdeb2.scope/payload',
        '8:pids:/machine.slice/machine-nsdeb2.scope',
        '4:memory:/machine.slice/machine-nsdeb2.scope',
        '0::/machine.slice/machine-nsdeb2.scope/payload',
      ].join('\n'),
    );
    expect(representativeCgroupPath(payload)).toBe('/machine.slice/machine-nsdeb2.scope/payload');
    expect(matchCgroupLines(payload)).toMatchObject({ type: 'nspawn', name: 'nsdeb2' });
    // The nspawn process itself shares the v1 controller paths but is in `supervisor` on the
    // unified and name=systemd hierarchies: it must not be taken for the container.
    const supervisor = parseProcCgroup(
      [
        '9:name=systemd:/machine.slice/machine-nsdeb2.scope/supervisor',
        '8:pids:/machine.slice/machine-nsdeb2.scope',
        '0::/machine.slice/machine-nsdeb2.scope/supervisor',
      ].join('\n'),
    );
    expect(matchCgroupLines(supervisor)).toBeNull();
  });

  it('[here] nspawn --keep-unit from a shell: no rule matches (found by its pid namespace instead)', () => {
    const lines = parseProcCgroup(
      [
        '9:name=systemd:/payload',
        '8:pids:/',
        '4:memory:/process_api/36df4b9eaa9260faacddefac9e0a97f0',
        '0::/payload',
      ].join('\n'),
    );
    expect(matchCgroupLines(lines)).toBeNull();
    expect(representativeCgroupPath(lines)).toBe('/payload');
  });

  it('pure cgroup v2 hosts: a single `0::` line (systemd driver)', () => {
    // [beats] TestV2CID and the systemd-driver layouts above, as /proc/<pid>/cgroup shows them on v2.
    const lines = parseProcCgroup(
      '0::/system.slice/docker-2dcbab615aebfa9313feffc5cfdacd381543cfa04c6be3f39ac656e55ef34805.scope\n',
    );
    expect(lines).toHaveLength(1);
    expect(matchCgroupLines(lines)).toMatchObject({
      type: 'docker',
      id: '2dcbab615aebfa9313feffc5cfdacd381543cfa04c6be3f39ac656e55ef34805',
    });
    expect(matchCgroupLines(parseProcCgroup('0::/user.slice/user-1000.slice/session-3.scope\n'))).toBeNull();
  });

  it('falls back to a v1 controller line when unified and name=systemd say nothing', () => {
    // A v1-only host where only the memory controller was delegated to the container.
    const lines = parseProcCgroup(
      [
        '9:name=systemd:/',
        '4:memory:/docker/72151856668b2b768929378a2641e9124def57be8a5707182bdf4711c64ecadf',
        '1:cpu:/',
      ].join('\n'),
    );
    expect(representativeCgroupPath(lines)).toBe('/');
    expect(matchCgroupLines(lines)?.type).toBe('docker');
  });

  it('prefers the first line without name=systemd or unified', () => {
    expect(representativeCgroupPath(parseProcCgroup('3:cpu:/a\n2:memory:/b\n'))).toBe('/a');
    expect(representativeCgroupPath([])).toBe('');
  });

  it('skips malformed lines', () => {
    expect(parseProcCgroup('garbage\nx:y:/z\n\n0::/ok\n')).toEqual([
      { hierarchy: 0, controllers: '', path: '/ok' },
    ]);
  });
});

describe('unescapeSystemd', () => {
  it('decodes \\xNN', () => {
    expect(unescapeSystemd('lxc\\x2d2293906\\x2dlibvirt')).toBe('lxc-2293906-libvirt');
    expect(unescapeSystemd('plain')).toBe('plain');
  });
});
