// commands/: the list of commands, in help order; each file registers its own flags, help and action on the program.

import { config } from './config-check.js';
import { daemon } from './daemon.js';
import { demo } from './demo.js';
import { doctor } from './doctor.js';
import { enforce } from './enforce.js';
import { fleet } from './fleet/index.js';
import type { Register } from './register.js';
import { rollback } from './rollback.js';
import { sniff } from './sniff.js';
import { status } from './status.js';

export type { Register };

/** Every command, in help order. */
export const COMMANDS: Register[] = [sniff, daemon, status, enforce, rollback, fleet, config, doctor, demo];
