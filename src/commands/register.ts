// commands/: the shape of a command's registration: it adds itself to the program and hands over its result.

import type { Command } from 'commander';
import type { ExitCodeValue } from '../errors.js';

export type Register = (program: Command, setResult: (p: Promise<ExitCodeValue>) => void) => void;
