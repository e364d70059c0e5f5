// The `kemu` command: dispatches to one subcommand per file under src/cli/.
import { userErrorMessage, type Command } from './common.ts';
import { crosscheck } from './crosscheck.ts';
import { disasm } from './disasm.ts';
import { guest } from './guest.ts';
import { fuzz } from './fuzz.ts';
import { run } from './run.ts';

/** The subcommands, in the order `kemu --help` lists them. Add new ones here. */
const COMMANDS: Command[] = [run, disasm, fuzz, guest, crosscheck];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: kemu <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'kemu <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const which = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      // Without a command it is a usage error: the help goes to stderr.
      (name === undefined ? process.stderr : process.stdout).write((which ? which.usage : help()) + '\n');
      return name === undefined ? 2 : 0;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) {
      process.stderr.write(`kemu: unknown command '${name}' (see kemu --help)\n`);
      return 2;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(cmd.usage + '\n');
      return 0;
    }
    return await cmd.run(rest);
  } catch (e) {
    const msg = userErrorMessage(e);
    if (msg !== undefined) {
      process.stderr.write(`kemu: ${msg}\n`);
      return 2;
    }
    // A bug in kemu: still one line, but say so.
    process.stderr.write(`kemu: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
}
