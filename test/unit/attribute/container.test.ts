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
