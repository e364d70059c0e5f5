// Shared pieces of the command-line interface: the command shape, argument parsing, errors, output.
import { readFileSync } from 'node:fs';
import { ElfError } from '../machine/elf.ts';

/** One subcommand (`kemu disasm ...`). Each lives in its own file under src/cli/ and is listed in main.ts. */
export interface Command {
  name: string;
  /** One line for `kemu --help`. */
  summary: string;
  /** Full usage text for `kemu <name> --help`. */
  usage: string;
  run(args: string[]): Promise<number>;
}

/** A mistake in how kemu was invoked or in its input: printed as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Flags that take a value (`--bits 32` or `--bits=32`). */
  values?: string[];
  /** Flags without a value. */
  booleans?: string[];
}

export interface ParsedArgs {
  flags: Map<string, string | true>;
  positionals: string[];
}

/** Parses `--name value`, `--name=value`, boolean `--name`, `--` and positionals; unknown flags are errors. */
export function parseArgs(args: string[], spec: FlagSpec, command: string): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const booleans = new Set(spec.booleans ?? []);
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(0, eq) : a;
    if (values.has(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`${command}: ${name} needs a value`);
      flags.set(name, v);
    } else if (booleans.has(name) && eq < 0) {
      flags.set(name, true);
    } else {
      throw new UsageError(`${command}: unknown option '${a}' (see kemu ${command} --help)`);
    }
  }
  return { flags, positionals };
}

/** Reads a whole input file; errors name the file. */
export function readInput(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && !err.path) err.path = file;
    throw err;
  }
}

/** Parses an integer argument: decimal, or hex with 0x. */
export function parseNumber(text: string, what: string): bigint {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new UsageError(`${what}: '${text}' is not a number`);
  return BigInt(text);
}

/** One-line message for an error that is the user's (bad input), or undefined for an internal error. */
export function userErrorMessage(e: unknown): string | undefined {
  if (e instanceof UsageError || e instanceof ElfError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    const path = err.path ? `${err.path}: ` : '';
    const why: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EISDIR: 'is a directory',
      ENOTDIR: 'not a directory',
    };
    return `${path}${why[err.code] ?? err.message}`;
  }
  return undefined;
}

/**
 * Buffered writer for large outputs (a listing of libc is ~20 MB): flushes in chunks, waits for the pipe to
 * drain, and stops quietly when the reader goes away (`kemu disasm x | head`).
 */
export class Output {
  private parts: string[] = [];
  private size = 0;
  closed = false;
  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    // EPIPE (the reader went away) or any other write error: stop writing.
    stream.on('error', () => {
      this.closed = true;
    });
  }
  async line(text: string): Promise<void> {
    this.parts.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.parts.length || this.closed) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
        this.stream.on('error', done);
      });
    }
  }
}
