// Boot modules (initrds, Multiboot modules): each one page-aligned after the kernel, as QEMU places them, with its
// command line in the low boot-data area.

import { BOOT_DATA_START, LOW_RAM_END } from './layout.js';
import type { Placement } from './placement.js';
import type { BootModule, LoadedModule } from './types.js';

const PAGE = 0x1000;

export function placeModules(arena: Placement, modules: BootModule[], after: number): LoadedModule[] {
  return modules.map((m, i) => {
    const start = arena.put(m.data, PAGE, after, arena.mem.ramSize, `module ${i} (${m.data.length} bytes)`);
    const cmdlineAddr = arena.putString(m.cmdline, BOOT_DATA_START, LOW_RAM_END, `command line of module ${i}`);
    return { start, end: start + m.data.length, cmdline: m.cmdline, cmdlineAddr };
  });
}
