// Pure: container id from a cgroup path (Docker, containerd, CRI-O, Kubernetes, podman, ECS).

import type { CgroupEntry } from './proc-parsers.js';

const HEX64 = '[0-9a-f]{64}';

/**
 * One pattern per runtime and cgroup driver, tried on each path segment from the innermost
 * out (podman and systemd nest a `/container` or `/init.scope` leaf under the container's own
 * scope). `crio-conmon-` and `libpod-conmon-` scopes hold the runtime monitor, not the
 * container, so they are deliberately not matched.
 */
const SEGMENT_PATTERNS: RegExp[] = [
  // systemd driver: the scope unit runc (or crun) asks systemd for.
  new RegExp(`^docker-(${HEX64})\\.scope$`),
  new RegExp(`^cri-containerd-(${HEX64})\\.scope$`),
  new RegExp(`^crio-(${HEX64})\\.scope$`),
  new RegExp(`^libpod-(${HEX64})\\.scope$`),
  // podman's cgroupfs manager: /libpod_parent/libpod-<id>, no .scope.
  new RegExp(`^libpod-(${HEX64})$`),
  // The systemd driver's cgroupsPath `slice:prefix:name` kept verbatim as a directory name,
  // as containerd/CRI (and docker) leave it where runc could not hand it to systemd (cgroup v1
  // hybrid hosts): `…/kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>`.
  new RegExp(`^[^:]*:(?:cri-containerd|docker|crio|libpod):(${HEX64})$`),
];

/** Ancestor segments under which a bare 64-hex segment is a container id (cgroupfs drivers). */
const BARE_ID_ROOTS = /^(docker|ecs|kubepods([.-].*)?)$/;
const BARE_ID = new RegExp(`^${HEX64}$`);

/**
 * Runtime monitors that sit beside the container: podman's cgroupfs manager puts every conmon
 * in `/libpod_parent/conmon` (or `/libpod_parent/<pod id>/conmon` for a pod, whose bare hex
 * pod id must not be taken for a container).
 */
const MONITOR_SEGMENT = /^conmon$/;

/**
 * The container id a cgroup path names, or null. Recognises `/docker/<id>`,
 * `docker-<id>.scope`, `cri-containerd-<id>.scope`, `…slice:cri-containerd:<id>`,
 * `crio-<id>.scope`, `libpod-<id>.scope`, `/libpod_parent/libpod-<id>`,
 * `kubepods…/pod<uid>/<id>` and `/ecs/<task>/<id>`; ids are 64 hex. conmon's own cgroups
 * (`…/conmon`, `libpod-conmon-<id>.scope`) are not a container.
 */
export function containerIdFromCgroup(path: string): string | null {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => MONITOR_SEGMENT.test(s))) return null;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i] ?? '';
    for (const pattern of SEGMENT_PATTERNS) {
      const m = pattern.exec(segment);
      if (m) return m[1] ?? null;
    }
    if (BARE_ID.test(segment) && segments.slice(0, i).some((s) => BARE_ID_ROOTS.test(s))) return segment;
  }
  return null;
}

/**
 * Picks the cgroup path to report and the container id from all lines of /proc/<pid>/cgroup:
 * the first line that names a container, else the v2 path, else v1 `name=systemd`, else the first.
 */
export function describeCgroups(entries: CgroupEntry[]): { path: string | null; containerId: string | null } {
  for (const e of entries) {
    const id = containerIdFromCgroup(e.path);
    if (id) return { path: e.path, containerId: id };
  }
  const chosen =
    entries.find((e) => e.hierarchyId === 0 && e.controllers.length === 0) ??
    entries.find((e) => e.controllers.includes('name=systemd')) ??
    entries[0];
  return { path: chosen?.path ?? null, containerId: null };
}
