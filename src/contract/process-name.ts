// contract/: the Process name of an imds_request event (exe basename or comm, @container): the metrics' Process dimension and the state file's key.

import type { ImdsRequestEvent } from './imds-request-event.js';

/** CloudWatch allows dimension values up to 1024 characters; we keep them dashboard-sized. */
export const MAX_DIMENSION_VALUE_LENGTH = 255;

/** Characters kept from a container id: what `docker ps` shows. */
const CONTAINER_ID_LENGTH = 12;

/**
 * Makes a string a valid CloudWatch dimension value: printable ASCII only
 * (CloudWatch refuses control characters and non-ASCII), at least one
 * non-blank character, at most `maxLength` characters.
 */
export function sanitizeDimensionValue(value: string, maxLength = MAX_DIMENSION_VALUE_LENGTH, fallback = 'unknown'): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '_').replace(/\s+/g, ' ').trim().slice(0, maxLength).trim();
  return clean === '' ? fallback : clean;
}

/** `/usr/bin/node` → `node`; the kernel's ` (deleted)` suffix of a replaced binary is not part of the name. */
function exeBasename(exe: string): string {
  const path = exe.replace(/ \(deleted\)$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The Process dimension of an event: the executable's basename, else the
 * kernel task name, else `unknown`; `@<first 12 of the container id>` when the
 * caller runs in a container, so the same binary in two containers stays apart.
 * Whatever the pids, the same program gets the same name (pids would make a
 * new metric series on every restart).
 */
export function processName(event: Pick<ImdsRequestEvent, 'exe' | 'comm' | 'container_id'>): string {
  const base = (event.exe !== null && exeBasename(event.exe).trim() !== '' ? exeBasename(event.exe) : null)
    ?? (event.comm !== null && event.comm.trim() !== '' ? event.comm : null)
    ?? 'unknown';
  const container = event.container_id === null ? '' : sanitizeDimensionValue(event.container_id, CONTAINER_ID_LENGTH, '');
  const suffix = container === '' ? '' : `@${container}`;
  return `${sanitizeDimensionValue(base, MAX_DIMENSION_VALUE_LENGTH - suffix.length)}${suffix}`;
}
