// An interrupt request line: a device drives its level, an interrupt controller (the PIC/IOAPIC, later) listens.
// The line reports only changes, so a controller sees every edge and the current level.

export type IrqSink = (level: boolean) => void;

export class IrqLine {
  private lvl = false;
  private sink: IrqSink | undefined;
  /** Rising edges seen so far (for tests and statistics). */
  risingEdges = 0;

  constructor(readonly name: string) {}

  get level(): boolean {
    return this.lvl;
  }

  /** Connects the controller input; it is told the current level at once. */
  connect(sink: IrqSink | undefined): void {
    this.sink = sink;
    sink?.(this.lvl);
  }

  set(level: boolean): void {
    if (level === this.lvl) return;
    this.lvl = level;
    if (level) this.risingEdges++;
    this.sink?.(level);
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  /** An edge-triggered request: high then low. */
  pulse(): void {
    this.set(true);
    this.set(false);
  }
}
