// Builds small test kernels with GNU as and ld in a temporary directory (nothing is committed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;
let n = 0;

function workDir(): string {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'kemu-loader-'));
    const d = dir;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

export interface BuildOptions {
  bits: 32 | 64;
  /** Address of .text (default 0x100000). */
  text?: number;
  /** Address of the first segment (headers and notes included) instead of `text`. */
  segment?: number;
  /** Output a flat binary instead of an ELF. */
  binary?: boolean;
  /** Extra ld arguments. */
  ldArgs?: string[];
}

/** Assembles AT&T-syntax source and links it; returns the file bytes. */
export function buildKernel(source: string, opts: BuildOptions): Uint8Array {
  const base = join(workDir(), `k${n++}`);
  writeFileSync(`${base}.s`, source);
  execFileSync('as', [opts.bits === 64 ? '--64' : '--32', '-o', `${base}.o`, `${base}.s`]);
  const args = [
    '-m', opts.bits === 64 ? 'elf_x86_64' : 'elf_i386',
    '-nostdlib', '--build-id=none', '-z', 'max-page-size=0x1000', '-z', 'noexecstack',
    opts.segment !== undefined ? `-Ttext-segment=0x${opts.segment.toString(16)}` : `-Ttext=0x${(opts.text ?? 0x100000).toString(16)}`,
    '-e', '_start',
    ...(opts.binary ? ['--oformat', 'binary'] : []),
    ...(opts.ldArgs ?? []),
    '-o', `${base}.out`, `${base}.o`,
  ];
  execFileSync('ld', args);
  return new Uint8Array(readFileSync(`${base}.out`));
}
