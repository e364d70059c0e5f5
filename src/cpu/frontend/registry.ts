// Instruction semantics by mnemonic. Each semantics module registers its instructions here; the block translator
// looks them up. A mnemonic with no semantics is #UD (and reported once through the CPU's trace hook).
import type { Translator } from './translator.ts';

export type Semantic = (t: Translator) => void;

export const SEMANTICS = new Map<string, Semantic>();

export function sem(names: string | string[], fn: Semantic): void {
  for (const n of typeof names === 'string' ? [names] : names) {
    if (SEMANTICS.has(n)) throw new Error(`semantics for '${n}' defined twice`);
    SEMANTICS.set(n, fn);
  }
}
