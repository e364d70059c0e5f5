// GNU binutils as the reference: assemble test code with `as`, disassemble with `objdump -M intel`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ObjdumpLine {
  addr: number;
  bytes: Uint8Array;
  /** The instruction text as objdump prints it (mnemonic and operands, Intel syntax), comments stripped. */
  text: string;
}

let workDir: string | undefined;
export function scratchDir(): string {
  workDir ??= mkdtempSync(join(tmpdir(), 'kemu-test-'));
  return workDir;
}

let counter = 0;

/** Assembles GNU as source for the given mode and returns the raw bytes of its .text section. */
export function assemble(source: string, bits: 16 | 32 | 64): Uint8Array {
  const dir = scratchDir();
  const base = join(dir, `t${process.pid}_${counter++}`);
  const directive = bits === 16 ? '.code16' : bits === 32 ? '.code32' : '.code64';
  writeFileSync(`${base}.s`, `.intel_syntax noprefix\n${directive}\n.text\n${source}\n`);
  execFileSync('as', [bits === 64 ? '--64' : '--32', '-o', `${base}.o`, `${base}.s`]);
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', `${base}.o`, `${base}.bin`]);
  return new Uint8Array(readFileSync(`${base}.bin`));
}

/** Runs objdump over raw bytes in the given mode. */
export function objdumpRaw(code: Uint8Array, bits: 16 | 32 | 64, org = 0): ObjdumpLine[] {
  const file = join(scratchDir(), `r${process.pid}_${counter++}.bin`);
  writeFileSync(file, code);
  const machine = bits === 64 ? 'i386:x86-64' : bits === 32 ? 'i386' : 'i8086';
  const out = execFileSync(
    'objdump',
    ['-D', '-w', '-b', 'binary', '-m', machine, '-M', 'intel', `--adjust-vma=${org}`, file],
    { maxBuffer: 1 << 30, encoding: 'utf8' },
  );
  return parseObjdump(out);
}

/** Runs objdump -d over an ELF file (optionally one section). */
export function objdumpElf(file: string, section?: string): ObjdumpLine[] {
  const args = ['-d', '-M', 'intel', '-w'];
  if (section) args.push('-j', section);
  const out = execFileSync('objdump', [...args, file], { maxBuffer: 2 ** 31, encoding: 'utf8' });
  return parseObjdump(out);
}

const LINE = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*(?:\t(.*))?$/;

/** Parses objdump -d output; instructions wider than one line (no -w) are joined. */
export function parseObjdump(out: string): ObjdumpLine[] {
  const lines: ObjdumpLine[] = [];
  for (const raw of out.split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const bytes = m[2]!.trim().split(/\s+/).map((h) => parseInt(h, 16));
    if (bytes.some((b) => Number.isNaN(b) || b > 255)) continue;
    const text = (m[3] ?? '').replace(/\s+#.*$/, '').replace(/\s+<[^>]*>$/, '').trim();
    if (!m[3] && lines.length) {
      // Continuation line: more bytes of the previous instruction.
      const prev = lines[lines.length - 1]!;
      const joined = new Uint8Array(prev.bytes.length + bytes.length);
      joined.set(prev.bytes);
      joined.set(bytes, prev.bytes.length);
      prev.bytes = joined;
      continue;
    }
    lines.push({ addr: parseInt(m[1]!, 16), bytes: new Uint8Array(bytes), text: text.replace(/\s+/g, ' ') });
  }
  return lines;
}

/** objdump's prefix words that may precede the mnemonic. */
const PREFIX_WORDS = new Set([
  'lock', 'rep', 'repz', 'repe', 'repnz', 'repne', 'bnd', 'notrack', 'data16', 'data32', 'addr16', 'addr32',
  'cs', 'ds', 'es', 'ss', 'fs', 'gs', 'xacquire', 'xrelease', 'rex', 'rex.w', 'rex.b', 'rex.x', 'rex.r', '{vex}',
  '{vex3}', '{evex}', 'rex64',
]);

/** The mnemonic of an objdump (or kemu) instruction text, without prefix words. */
export function mnemonicOf(text: string): string {
  const words = text.split(' ');
  let i = 0;
  while (i < words.length - 1 && (PREFIX_WORDS.has(words[i]!) || /^rex\.[wrxb]+$/i.test(words[i]!))) i++;
  return words[i] ?? '';
}
