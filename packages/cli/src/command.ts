import type { Command } from 'commander';

/** Registers one subcommand; `setExit` raises the process exit code (the highest wins). */
export type RegisterCommand = (program: Command, setExit: (code: number) => void) => void;
