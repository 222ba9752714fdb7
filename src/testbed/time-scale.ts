// Testbed waits, stretched on slow machines: the kernel VM lane runs the e2e tests under qemu TCG.

/**
 * `ms` times IMDS_SNIFF_TIME_SCALE (a number ≥ 1; default 1). The kernel VM lane
 * (scripts/test-kernels.sh) sets it: starting the agent there takes 10–30 s instead of 1 s,
 * and a 200-curl burst minutes. Waits for the testbed itself use it (agent start and stop, the
 * mock's readiness and keep-alive, the demo's wait for events), and an agent the testbed starts
 * gets `--attribution-timeout` 500 ms × the scale (at most 10 s) unless its caller gave one.
 */
export function scaledMs(ms: number): number {
  const scale = Number(process.env['IMDS_SNIFF_TIME_SCALE'] ?? 1);
  return Number.isFinite(scale) && scale > 1 ? Math.round(ms * scale) : ms;
}
