// Every instruction-semantics module, imported for its registrations.
import './alu.ts';
import './control.ts';
import './data.ts';
import './io.ts';
