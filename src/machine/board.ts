// The PC board without its CPU: guest RAM, the port and MMIO buses, the ISA IRQ lines and the legacy devices,
// wired to the host through callbacks. A run loop (`kemu run`) drives it together with a CPU and stops when
// `stopRequest` is set.

import { ACPI_PM_PORT, ACPI_PM_PORTS, ACPI_SCI_IRQ, AcpiPm, SLP_TYP_S5 } from '../devices/acpi-pm.js';
import { DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, DebugExit } from '../devices/debug-exit.js';
import { HPET_BASE, HPET_SIZE, Hpet } from '../devices/hpet.js';
import { IOAPIC_BASE, IOAPIC_SIZE, IoApic } from '../devices/ioapic.js';
import { LAPIC_BASE, LAPIC_SIZE, LocalApic } from '../devices/lapic.js';
import { DualPic, ELCR_PORT, PIC_MASTER_PORT, PIC_SLAVE_PORT } from '../devices/pic8259.js';
import { PIT_PORT, PIT_PORTS, PORT_B, Pit8254 } from '../devices/pit8254.js';
import { RTC_PORT, RTC_PORTS, RtcCmos } from '../devices/rtc-cmos.js';
import { I8042, I8042_COMMAND_PORT, I8042_DATA_PORT } from '../devices/i8042.js';
import { POST_PORT, PostCode } from '../devices/post-code.js';
import { Uart16550, type OutputSink } from '../devices/uart16550.js';
import { buildAcpiTables, type AcpiTables } from './acpi/tables.js';
import { MmioBus, PortBus } from './bus.js';
import { HostClock, type Clock, type TimerDevice } from './clock.js';
import { InterruptRouter } from './interrupts.js';
import { IrqLine } from './irq.js';
import { loadKernel, type LoadOptions, type LoadResult } from './loader/index.js';
import { GuestMemory } from './memory.js';

export const COM1_PORT = 0x3f8;
export const COM1_IRQ = 4;
export const ISA_IRQS = 16;
export const PIT_IRQ = 0;
export const RTC_IRQ = 8;
export const KBD_IRQ = 1;
export const AUX_IRQ = 12;

export type StopRequest = { kind: 'exit'; status: number } | { kind: 'reset' };

export interface BoardOptions {
  /** Guest RAM in bytes (a multiple of 64 KiB). */
  ramSize: number;
  /** Bytes reserved after RAM for the CPU's own state. */
  cpuReserve?: number;
  /** Where COM1 output goes; default: process.stdout. */
  output?: OutputSink;
  /** Called when the guest writes to isa-debug-exit, with the exit status (v << 1) | 1. */
  onExit?: (status: number) => void;
  /** Called when the guest requests a system reset. */
  onReset?: () => void;
  /** The time source of the timer devices; default: the host's monotonic clock. */
  clock?: Clock;
  /** Wall-clock time (ms since the epoch) the RTC shows at clock time 0; default: now. */
  rtcBaseTime?: number;
  /** Write the ACPI tables to RAM at 0xe0000 (default: true when RAM reaches 1 MiB). */
  acpi?: boolean;
}

const stdoutSink: OutputSink = (bytes) => {
  process.stdout.write(bytes);
};

export class Board {
  readonly memory: GuestMemory;
  readonly io = new PortBus();
  readonly mmio = new MmioBus();
  /** ISA IRQ lines 0-15, not yet connected to an interrupt controller. */
  readonly irqs: IrqLine[];
  readonly com1: Uart16550;
  readonly debugExit: DebugExit;
  readonly post = new PostCode();
  readonly i8042: I8042;
  /** Virtual time for the timers. */
  readonly clock: Clock;
  readonly pic = new DualPic();
  readonly pit: Pit8254;
  readonly rtc: RtcCmos;
  readonly lapic: LocalApic;
  readonly ioapic: IoApic;
  readonly hpet: Hpet;
  readonly acpiPm: AcpiPm;
  /** Routes the IRQ lines through the PIC and the I/O APIC to the local APIC (see interrupts.ts). */
  readonly interrupts: InterruptRouter;
  /** The ACPI tables written to RAM, if any (acpiTables.rsdp is the RSDP's address). */
  readonly acpiTables: AcpiTables | undefined;
  private readonly timers: TimerDevice[];
  /** Set when the guest asked to exit or reset; the run loop stops the CPU and handles it. */
  stopRequest: StopRequest | undefined;

  constructor(options: BoardOptions) {
    this.memory = new GuestMemory(options.ramSize, { extraBytes: options.cpuReserve ?? 0 });
    this.irqs = Array.from({ length: ISA_IRQS }, (_, i) => new IrqLine(`irq${i}`));

    this.com1 = new Uart16550(this.irqs[COM1_IRQ]!, options.output ?? stdoutSink);
    this.debugExit = new DebugExit((status) => {
      this.stopRequest ??= { kind: 'exit', status };
      options.onExit?.(status);
    });
    this.i8042 = new I8042(
      () => {
        this.stopRequest ??= { kind: 'reset' };
        options.onReset?.();
      },
      this.irqs[KBD_IRQ],
      this.irqs[AUX_IRQ],
    );

    this.clock = options.clock ?? new HostClock();
    this.lapic = new LocalApic(this.clock);
    this.ioapic = new IoApic({
      deliver: (vector, level) => this.lapic.accept(vector, level),
      nmi: () => this.interrupts.onNmi(),
    });
    this.interrupts = new InterruptRouter(this.pic, this.ioapic, this.lapic);
    this.interrupts.connectIsa(this.irqs);
    this.pit = new Pit8254(this.clock, this.irqs[PIT_IRQ]!);
    this.rtc = new RtcCmos(this.clock, this.irqs[RTC_IRQ]!, { ramSize: options.ramSize, baseTime: options.rtcBaseTime });
    this.hpet = new Hpet(this.clock, {
      legacy: (irq, level) => this.interrupts.setHpetLegacyIrq(irq, level),
      gsi: (gsi, level) => this.interrupts.setGsi(gsi, level),
      legacyMode: (on) => this.interrupts.setHpetLegacyMode(on),
    });
    this.acpiPm = new AcpiPm(this.clock, this.irqs[ACPI_SCI_IRQ]!);
    this.acpiPm.onSleep = (slpTyp) => {
      if (slpTyp !== SLP_TYP_S5) return;
      // ACPI soft-off: the run ends as if the guest exited with status 0
      this.stopRequest ??= { kind: 'exit', status: 0 };
      options.onExit?.(0);
    };
    this.timers = [this.pit, this.rtc, this.lapic, this.hpet, this.acpiPm];

    this.io.register(COM1_PORT, 8, this.com1, 'COM1');
    this.io.register(PIC_MASTER_PORT, 2, this.pic.masterPorts, 'PIC master');
    this.io.register(PIC_SLAVE_PORT, 2, this.pic.slavePorts, 'PIC slave');
    this.io.register(ELCR_PORT, 2, this.pic.elcrPorts, 'ELCR');
    this.io.register(PIT_PORT, PIT_PORTS, this.pit, 'PIT');
    this.io.register(PORT_B, 1, this.pit.portB, 'port B');
    this.io.register(RTC_PORT, RTC_PORTS, this.rtc, 'RTC/CMOS');
    this.io.register(ACPI_PM_PORT, ACPI_PM_PORTS, this.acpiPm, 'ACPI PM');
    this.mmio.register(LAPIC_BASE, LAPIC_SIZE, this.lapic, 'LAPIC');
    this.mmio.register(IOAPIC_BASE, IOAPIC_SIZE, this.ioapic, 'IOAPIC');
    this.mmio.register(HPET_BASE, HPET_SIZE, this.hpet, 'HPET');
    if (options.acpi ?? options.ramSize >= 0x100000) {
      this.acpiTables = buildAcpiTables();
      this.writeAcpiTables();
    }
    this.io.register(DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, this.debugExit, 'isa-debug-exit');
    this.io.register(POST_PORT, 1, this.post, 'POST');
    this.io.register(I8042_DATA_PORT, 1, this.i8042.dataPort, 'i8042 data');
    this.io.register(I8042_COMMAND_PORT, 1, this.i8042.commandPort, 'i8042 command');
  }

  /** Loads a kernel image (Multiboot, PVH ELF or x86-64 ELF) into RAM; the result holds the start state. */
  loadKernel(image: Uint8Array, opts?: LoadOptions): LoadResult {
    return loadKernel(image, this.memory, opts);
  }

  /** Host input (stdin) for COM1. */
  sendInput(data: Uint8Array | string): void {
    this.com1.receive(data);
  }

  /** (Re)writes the ACPI tables to RAM (after something cleared low memory). */
  writeAcpiTables(): void {
    const t = this.acpiTables;
    if (t) this.memory.write(t.base, t.bytes);
  }

  /** The vector the CPU would take now if RFLAGS.IF allows, or -1. */
  pendingVector(): number {
    return this.interrupts.pendingVector();
  }

  /** The CPU takes the pending interrupt (INTA / LAPIC IRR -> ISR): returns the vector to deliver, or -1. */
  ackInterrupt(): number {
    return this.interrupts.ackInterrupt();
  }

  /** Called whenever pendingVector() may have changed (set by the run loop). */
  set onInterruptChange(fn: () => void) {
    this.interrupts.onChange = fn;
  }

  /** Called when an NMI is sent to the CPU (set by the run loop). */
  set onNmi(fn: () => void) {
    this.interrupts.onNmi = fn;
  }

  /** Fires the timers due at the clock's current time; returns the next deadline (ns of board.clock, or Infinity). */
  pollTimers(): number {
    const now = this.clock.now();
    let next = Infinity;
    for (const t of this.timers) next = Math.min(next, t.poll(now));
    return next;
  }

  /** Devices back to power-on state (RAM is kept); clears the stop request. */
  reset(): void {
    this.pic.reset();
    this.pit.reset();
    this.rtc.reset();
    this.lapic.reset();
    this.ioapic.reset();
    this.hpet.reset();
    this.acpiPm.reset();
    this.com1.reset();
    this.i8042.reset();
    this.post.lastCode = undefined;
    this.stopRequest = undefined;
  }
}
