// Attribution figures a test measured (requests, right pid), printed and, when IMDS_SNIFF_FIGURES
// names a file, appended to it as JSON lines: the kernel VM lane collects them into its table.

import { appendFileSync } from 'node:fs';
import { release } from 'node:os';

export interface AttributionFigure {
  scenario: string;
  requests: number;
  /** Requests whose event named the right pid (and whatever else the scenario checks). */
  right: number;
}

/** Prints the figure and records it for the kernel matrix. */
export function recordFigure(figure: AttributionFigure): void {
  const line = { kernel: release(), ...figure, right_percent: figure.requests === 0 ? 0 : Math.round((1000 * figure.right) / figure.requests) / 10 };
  console.log(`figure: ${line.scenario}: ${line.right}/${line.requests} right (${line.right_percent} %) on ${line.kernel}`);
  const file = process.env.IMDS_SNIFF_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify(line)}\n`);
}
