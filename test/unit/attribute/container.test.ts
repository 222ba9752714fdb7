import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { containerIdFromCgroup, describeCgroups } from '../../../src/attribute/container.js';
import { parseCgroup } from '../../../src/attribute/proc-parsers.js';

const ID = '4f3b5a6c7d8e9f00112233445566778899aabbccddeeff00112233445566aabb';
const ID2 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

describe('containerIdFromCgroup', () => {
  it.each([
    ['docker cgroupfs (v1)', `/docker/${ID}`, ID],
    ['docker systemd scope', `/system.slice/docker-${ID}.scope`, ID],
    ['containerd k8s systemd', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3b6e0a2c_1d2f.slice/cri-containerd-${ID}.scope`, ID],
    ['cri-o', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podabc.slice/crio-${ID}.scope`, ID],
    ['cri-o conmon is not the container', `/machine.slice/crio-conmon-${ID}.scope`, null],
    ['k8s cgroupfs', `/kubepods/burstable/pod3b6e0a2c-1d2f-4c5e-8a9b-0c1d2e3f4a5b/${ID2}`, ID2],
    ['k8s cgroupfs guaranteed', `/kubepods/pod3b6e0a2c-1d2f-4c5e-8a9b-0c1d2e3f4a5b/${ID2}`, ID2],
    ['podman', `/machine.slice/libpod-${ID}.scope`, ID],
    ['podman rootless nested leaf', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`, ID],
    ['podman conmon', `/machine.slice/libpod-conmon-${ID}.scope`, null],
    ['podman cgroupfs', `/libpod_parent/libpod-${ID}`, ID],
    ['podman cgroupfs conmon sibling', '/libpod_parent/conmon', null],
    ['podman pod conmon under a bare hex pod id', `/libpod_parent/${ID2}/conmon`, null],
    ['containerd systemd driver, path kept verbatim', `/system.slice/containerd.service/kubepods-burstable-pod3b6e0a2c_1d2f.slice:cri-containerd:${ID}`, ID],
    ['docker systemd driver, path kept verbatim', `/system.slice:docker:${ID}`, ID],
    ['libpod- prefix without a full id', '/libpod_parent/libpod-4f3b5a6c', null],
    ['ECS', `/ecs/0123456789abcdef0123456789abcdef/${ID}`, ID],
    ['docker-in-docker innermost wins', `/docker/${ID}/docker/${ID2}`, ID2],
    ['host service', '/system.slice/cloud-final.service', null],
    ['root', '/', null],
    ['bare hex outside a runtime tree', `/mygroup/${ID}`, null],
    ['short id', '/docker/4f3b5a6c7d8e', null],
    ['upper case is not an id', `/docker/${ID.toUpperCase()}`, null],
    ['empty', '', null],
  ])('%s', (_name, path, expected) => {
    expect(containerIdFromCgroup(path)).toBe(expected);
  });
});

describe('describeCgroups', () => {
  it.each([
    ['v2 only', '0::/system.slice/ssh.service\n', { path: '/system.slice/ssh.service', containerId: null }],
    ['v1 line names the container', `12:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/\n`, { path: `/docker/${ID}`, containerId: ID }],
    ['v1 without v2', '2:cpu:/a\n1:name=systemd:/user.slice\n', { path: '/user.slice', containerId: null }],
    ['nothing', '', { path: null, containerId: null }],
  ])('%s', (_name, text, expected) => {
    expect(describeCgroups(parseCgroup(text))).toEqual(expected);
  });
});

/** fixtures/proc/cgroup/: whole /proc/<pid>/cgroup files, cgroup v1 hybrid and v2 (fixtures/proc/README.md). */
const CGROUP_FIXTURES = fileURLToPath(new URL('../../../fixtures/proc/cgroup/', import.meta.url));

describe('describeCgroups on real-looking /proc/<pid>/cgroup files', () => {
  const cases: [file: string, containerId: string | null, pathHas: string][] = [
    ['podman-cgroupfs-hybrid.txt', '41e499c7cbf3178feccc4d73fa585fbc0f9dbfccbb0e1139b8f19254be5e31fd', '/libpod_parent/libpod-'],
    ['podman-conmon-cgroupfs-hybrid.txt', null, '/libpod_parent/conmon'],
    ['podman-pod-cgroupfs-v2.txt', '321c4a2f8a8aa1f6db4366e9ad09b48dbc585c18ae3533916c46b94b9edd1e8c', '/libpod-321c'],
    ['podman-pod-conmon-cgroupfs-v2.txt', null, '/conmon'],
    ['podman-systemd-v2.txt', '8299a441d737590f7a052d2ae843dd85f75803adb6324d7a560e73066663c44a', '.scope/container'],
    ['podman-systemd-hybrid.txt', 'fbf4b86178a3234295fc4dc2aa2eb61ed844f1ca5df4f3a818b9d6416c45f5fb', '/machine.slice/libpod-'],
    ['podman-conmon-systemd-v2.txt', null, 'libpod-conmon-'],
    ['podman-rootless-v2.txt', 'f4b0a23bab5b538ae24f41b69f0313fdd17964f01ea85a786ea901d931aeb937', 'user@1000.service'],
    ['docker-cgroupfs-v1.txt', 'fb878674496dd98342506087d7f5b80b9ec90a175b11e7ec00996b849a812d6b', '/docker/'],
    ['docker-cgroupfs-hybrid.txt', '94a80cc0fda6232a42275f8e6a24df549fc44b0b77db5818c9c99a0bb458395c', '/docker/'],
    ['docker-systemd-v2.txt', '32785c5c5bf4f17f77694140a0c69a0da17d315580d7a8cce75eb782d5322a7a', 'docker-'],
    ['docker-systemd-hybrid.txt', 'ffa51ef4020c6929770e546b136ec8340f1eaf6a1a890efea180e669e71bc005', 'docker-'],
    ['docker-in-docker-v1.txt', '7cbb17051516fc1358fd90e1409c6cc08b6edb721762b4b8bfb62e66d6de5508', '/docker/'],
    ['containerd-systemd-hybrid.txt', '584a03076c0e806885e6ff635522e05475a43be41023a4b5b86f50f6943cc568', '.slice:cri-containerd:'],
    ['containerd-systemd-v2.txt', '096b1fc9559902991afaf7f0d85d02fe0aeb39c5a47e766c5126ba49accfe8a8', 'cri-containerd-'],
    ['containerd-cgroupfs-v1.txt', '16919cb23dbd1149608c45d8d393ea4a7a1b47ff912d7edc0d0aadb9f3178697', '/kubepods/besteffort/'],
    ['containerd-cgroupfs-v2.txt', '878063899f5b21a47f0e248e7e85d4a42f4d33c3306b91d64d04ca7441a38c95', '/kubepods/burstable/'],
    ['crio-systemd-v2.txt', '7f8240d55c4f573a3352e0c96cce3a91962bd4006f2f1b1c02e7f7af45b02112', 'crio-'],
    ['crio-conmon-systemd-v2.txt', null, 'crio-conmon-'],
    ['ecs-v1.txt', 'b2ded32eafe0f92915689d8943c40a6000371ac6886d744a9f584947c04c39ca', '/ecs/'],
    ['host-systemd-hybrid.txt', null, '/system.slice/ssh.service'],
    ['host-no-systemd-hybrid.txt', null, '/'],
  ];

  it('covers every fixture file', () => {
    expect(cases.map((c) => c[0]).sort()).toEqual(readdirSync(CGROUP_FIXTURES).sort());
  });

  it.each(cases)('%s', (file, containerId, pathHas) => {
    const got = describeCgroups(parseCgroup(readFileSync(join(CGROUP_FIXTURES, file), 'utf8')));
    expect(got.containerId).toBe(containerId);
    expect(got.path).toContain(pathHas);
  });
});
