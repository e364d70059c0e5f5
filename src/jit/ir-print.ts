// A readable listing of an IR program (for JIT debugging and test failure messages).
import type { Program } from '../cpu/ir/builder.ts';
import { A, COND_NAMES, OPS } from '../cpu/ir/ops.ts';
import { HELPERS } from '../cpu/ir/helpers.ts';

export function formatProgram(p: Program): string {
  const lines: string[] = [];
  const c = p.code;
  const tmp = (t: number) => (t < 0 ? '-' : `${p.widths[t] === 64 ? 'q' : 'd'}${t}`);
  for (let pc = 0; pc < c.length; ) {
    const def = OPS[c[pc]!];
    if (!def) {
      lines.push(`${pc}: bad opcode ${c[pc]}`);
      break;
    }
    const parts: string[] = [];
    def.args.forEach((k, i) => {
      const v = c[pc + 1 + i]!;
      switch (k) {
        case A.D32: case A.D64: case A.S32: case A.S64: case A.ANY: parts.push(tmp(v)); break;
        case A.LBL: parts.push(`L${v}`); break;
        case A.COND: parts.push(COND_NAMES[v] ?? `cond${v}`); break;
        case A.OFF: parts.push(`[${v}]`); break;
        case A.SEG: parts.push(v < 0 ? 'lin' : `seg${v}`); break;
        case A.HLP: parts.push(HELPERS[v]?.name ?? `helper${v}`); break;
        default: parts.push(`0x${(v >>> 0).toString(16)}`);
      }
    });
    lines.push(`${String(pc).padStart(4)}: ${def.name} ${parts.join(', ')}`);
    pc += 1 + def.args.length;
  }
  return lines.join('\n');
}
