import type { RegisterCommand } from '../command.js';
import { registerAgent } from './agent.js';
import { registerApply } from './apply.js';
import { registerCheck } from './check.js';
import { registerCompile } from './compile.js';
import { registerLab } from './lab.js';
import { registerLog } from './log.js';
import { registerSimulate } from './simulate.js';
import { registerShow } from './show.js';
import { registerStore } from './store.js';
import { registerFw } from './fw.js';
import { registerConfirm } from './confirm.js';

export type { RegisterCommand } from '../command.js';

/** Every subcommand, in the order `palisade --help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [registerCheck, registerShow, registerStore, registerConfirm, registerFw, registerCompile, registerApply, registerSimulate, registerLab, registerAgent, registerLog];
