/**
 * The `rl4d` command. Each subcommand lives in src/cli/commands/<name>.ts and exports
 * `run(argv): Promise<number>` and a one-line `summary`; they load lazily so that
 * `rl4d view` does not pull in the GPU stack.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError, GpuError } from '../errors.ts';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<Command> {
  return (await import(`./commands/${name}.ts`)) as Command;
}

async function usage(): Promise<string> {
  const lines = ['usage: rl4d <command> [options]', '', 'commands:'];
  for (const name of commandNames()) lines.push(`  ${name.padEnd(10)} ${(await load(name)).summary}`);
  lines.push('', 'Run `rl4d <command> --help` for its options.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  if (!commandNames().includes(name)) {
    console.error(`rl4d: unknown command '${name}'.\n\n${await usage()}`);
    return 2;
  }
  try {
    return await (await load(name)).run(rest);
  } catch (e) {
    if (e instanceof InputError) {
      console.error(`rl4d ${name}: ${e.message}`);
      return 2;
    }
    if (e instanceof GpuError) {
      console.error(`rl4d ${name}: GPU error: ${e.message}`);
      return 3;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
