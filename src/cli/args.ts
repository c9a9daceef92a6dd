/**
 * Small option parser for the subcommands: `--name value`, `--flag`, and positionals.
 * Unknown options are an InputError naming the option, so typos never pass silently.
 */
import { InputError } from '../errors.ts';

export interface OptionSpec {
  /** 'string' and 'number' take a value; 'boolean' is a flag. */
  [name: string]: 'string' | 'number' | 'boolean';
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
}

export function parseArgs(command: string, argv: string[], spec: OptionSpec): ParsedArgs {
  const positionals: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const kind = spec[rawName];
    if (!kind) throw new InputError(`unknown option '--${rawName}' for '${command}'; see 'rl4d ${command} --help'.`);
    if (kind === 'boolean') {
      options[rawName] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new InputError(`option '--${rawName}' needs a value.`);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new InputError(`option '--${rawName}' must be a number, got '${value}'.`);
      options[rawName] = n;
    } else options[rawName] = value;
  }
  return { positionals, options };
}
