export { main } from './main.js';
export { EXIT, CliExit, type ExitCode } from './exit.js';
