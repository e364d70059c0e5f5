// MOV to and from segment, control and debug registers.
// (Placeholder: #UD until the system-instructions work lands.)
import type { Translator } from '../frontend/translator.ts';

export function movToSystemReg(t: Translator): void {
  t.fault(6);
}

export function movFromSystemReg(t: Translator): void {
  t.fault(6);
}
