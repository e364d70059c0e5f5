// The `kemu` command line, run as a user would (node bin/kemu.mjs ...): output, exit status, error messages.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, objdumpRaw, parseObjdump, scratchDir } from './util/gnu.ts';

const KEMU = join(import.meta.dirname, '..', 'bin', 'kemu.mjs');

function kemu(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [KEMU, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A usage error: exit status 2 and exactly one line on stderr, with no stack trace. */
function expectError(r: { status: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.status).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^kemu: /);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Instruction lines of a listing: [address, bytes, text]. */
function instructions(listing: string): [number, string, string][] {
  const out: [number, string, string][] = [];
  for (const line of listing.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) out.push([parseInt(m[1]!, 16), m[2]!, m[3]!]);
  }
  return out;
}

const hex = (b: ArrayLike<number>): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('kemu CLI', () => {
  it('--help lists the commands; no command is a usage error', () => {
    const h = kemu('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Usage: kemu <command>/);
    expect(h.stdout).toMatch(/disasm/);
    const d = kemu('disasm', '--help');
    expect(d.status).toBe(0);
    expect(d.stdout).toMatch(/--raw --bits/);
    const none = kemu();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/Usage: kemu/);
  });

  it('reports bad invocations in one line with status 2', () => {
    expectError(kemu('frobnicate'), /unknown command 'frobnicate'/);
    expectError(kemu('disasm', '--frob', '/usr/bin/ls'), /unknown option '--frob'/);
    expectError(kemu('disasm'), /expected one FILE/);
    expectError(kemu('disasm', '/no/such/file'), /\/no\/such\/file: no such file or directory/);
    expectError(kemu('disasm', scratchDir()), /is a directory/);
    expectError(kemu('disasm', '--bits', '8', '/usr/bin/ls'), /--bits must be 16, 32 or 64/);
    expectError(kemu('disasm', '--raw', '/usr/bin/ls'), /--raw needs --bits/);
    expectError(kemu('disasm', '--raw', '--bits', '64', '--org', 'zz', '/usr/bin/ls'), /--org: 'zz' is not a number/);
    expectError(kemu('disasm', '--section', '.nope', '/usr/bin/ls'), /no section '.nope'/);
    expectError(kemu('disasm', '--bits'), /--bits needs a value/);
  });

  it('reports non-ELF and corrupt ELF files in one line with status 2', () => {
    const dir = scratchDir();
    const text = join(dir, 'cli-text.txt');
    writeFileSync(text, 'hello\n');
    expectError(kemu('disasm', text), /cli-text.txt: not an ELF file \(bad magic\) \(use --raw/);
    const ls = readFileSync('/usr/bin/ls');
    const truncated = join(dir, 'cli-truncated');
    writeFileSync(truncated, ls.subarray(0, 2000));
    expectError(kemu('disasm', truncated), /out of range/);
    const badShoff = Buffer.from(ls);
    badShoff.writeBigUInt64LE(1n << 40n, 40);
    const f = join(dir, 'cli-badshoff');
    writeFileSync(f, badShoff);
    expectError(kemu('disasm', f), /section header table out of range/);
  });

  it('disassembles raw 16-bit code at an origin, as objdump does', () => {
    const code = assemble('start: xor ax, ax\nmov ds, ax\nmov si, 0x7c50\nlodsb\nint 0x10\njmp start\nljmp 0xf000:0xfff0', 16);
    const file = join(scratchDir(), 'cli-boot.bin');
    writeFileSync(file, code);
    const r = kemu('disasm', '--raw', '--bits', '16', '--org', '0x7c00', file);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const expected = objdumpRaw(code, 16, 0x7c00).map((l) => [l.addr, hex(l.bytes), l.text]);
    expect(instructions(r.stdout)).toEqual(expected);
    expect(r.stdout.split('\n')[0]).toBe('7c00 31c0 xor ax,ax');
  });

  it('disassembles the executable sections of a linked 32-bit ELF like objdump -d', () => {
    const dir = scratchDir();
    const src = join(dir, 'cli32.s');
    writeFileSync(
      src,
      '.intel_syntax noprefix\n.text\n.globl _start\n_start: call f\nmov eax, 1\nint 0x80\nf: push ebp\nmov ebp, esp\n' +
        'lea eax, [ebx+ecx*4+0x10]\nrep movsd\nleave\nret\n.section .init, "ax"\nnop\nret\n',
    );
    execFileSync('as', ['--32', '-o', join(dir, 'cli32.o'), src]);
    execFileSync('ld', ['-m', 'elf_i386', '-o', join(dir, 'cli32'), join(dir, 'cli32.o')]);
    const r = kemu('disasm', join(dir, 'cli32'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Disassembly of section \.text:/);
    expect(r.stdout).toMatch(/Disassembly of section \.init:/);
    const objdump = parseObjdump(execFileSync('objdump', ['-d', '-M', 'intel', '-w', join(dir, 'cli32')], { encoding: 'utf8' }));
    const ours = instructions(r.stdout).map(([a, b, t]) => [a, b, t.replace(/ <[^>]*>$/, '')]);
    expect(ours).toEqual(objdump.map((l) => [l.addr, hex(l.bytes), l.text]));
    // Branch targets carry the symbol, objdump style.
    expect(r.stdout).toMatch(/ call [0-9a-f]+ <f>\n/);
    const one = kemu('disasm', '--section', '.init', join(dir, 'cli32'));
    expect(instructions(one.stdout).map((l) => l[2])).toEqual(['nop', 'ret']);
    // --bits overrides the ELF class.
    const as16 = kemu('disasm', '--bits', '16', '--section', '.text', join(dir, 'cli32'));
    expect(instructions(as16.stdout).map((l) => l[2])).toContain('mov ax,0x1');
  });

  it('stops quietly when the reader closes the pipe', () => {
    const r = spawnSync('bash', ['-c', `'${process.execPath}' '${KEMU}' disasm /usr/lib/x86_64-linux-gnu/libc.so.6 | head -3; exit \${PIPESTATUS[0]}`], {
      encoding: 'utf8',
    });
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
