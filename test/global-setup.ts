// CI sets IMDS_SNIFF_REQUIRE_E2E=1: then the end-to-end suites must run, not skip, or the run fails here.

import { testbedPrerequisites } from '../src/testbed/prerequisites.js';

export default function setup(): void {
  if (process.env['IMDS_SNIFF_REQUIRE_E2E'] !== '1') return;
  const prereq = testbedPrerequisites();
  if (!prereq.ok) throw new Error(`IMDS_SNIFF_REQUIRE_E2E=1 but the end-to-end tests would be skipped: ${prereq.reason ?? prereq.missing.join(', ')}`);
}
