// Every instruction-semantics module, imported for its registrations.
import './alu.ts';
import './control.ts';
import './data.ts';
import './io.ts';
import './sys-control.ts';
import './sys-priv.ts';
import './sys-io.ts';
import './shift.ts';
import './muldiv.ts';
import './bits.ts';
import './cmov.ts';
import './convert.ts';
import './misc-int.ts';
import './bmi.ts';
import './string.ts';
import './stackops.ts';
