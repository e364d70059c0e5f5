// Moving a running guest between the software CPU and KVM (src/machine/switch.ts, `kemu run --switch-to`): the
// guest prints a lot over the UART and exits through isa-debug-exit; whatever the switch points, its output and exit
// status must be those of an uninterrupted run. Skipped (with the reason in each name) where /dev/kvm is not usable.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccelError, type Accelerator, type AccelName } from '../src/accel/accelerator.ts';
import { KvmAccelerator, probeKvm } from '../src/accel/kvm/accel.ts';
import { TcgAccelerator, TcgVcpu } from '../src/accel/tcg.ts';
import { CPU_EXTRA_BYTES } from '../src/cpu/cpu.ts';
import { Board } from '../src/machine/board.ts';
import type { JitMode } from '../src/machine/jit-mode.ts';
import { GuestVcpu, runBoard, switchBackend, type GuestOutcome } from '../src/machine/switch.ts';
import { chattyGuest, chattyOutput } from './cli-run-guests.ts';
import { buildKernel } from './loader-build.ts';
import { ECHO_GUEST } from './smoke-guests.ts';
import { scratchDir } from './util/gnu.ts';

const kvm = probeKvm();
const why = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;
const kit = (name: string, fn: () => unknown, timeout?: number) => it.skipIf(!kvm.ok)(name + why, fn, timeout);

const LINES = 120;
let image: Uint8Array | undefined;
let image3: Uint8Array | undefined;
const chatty = () => (image ??= buildKernel(chattyGuest(LINES), { bits: 64 }));
const chatty3 = () => (image3 ??= buildKernel(chattyGuest(LINES, true), { bits: 64 }));
const want = chattyOutput(LINES);

const live: Accelerator[] = [];
afterEach(() => {
  for (const a of live.splice(0)) a.close();
});

interface Run {
  outcome: GuestOutcome;
  out: string;
  guest: GuestVcpu;
  /** [from, to, exits at the switch] */
  switched: [AccelName, AccelName, number][];
}

/** Boots the chatty guest on `first`, switching after each `plan` entry's exits to its backend. */
async function run(first: AccelName, plan: [number, AccelName][], jit: JitMode = 'on', ring3 = false): Promise<Run> {
  const bytes: number[] = [];
  const board = new Board({ ramSize: 16 << 20, cpuReserve: CPU_EXTRA_BYTES, output: (b) => bytes.push(...b) });
  const accels = new Map<AccelName, Accelerator>();
  const accel = (n: AccelName): Accelerator => {
    let a = accels.get(n);
    if (!a) {
      accels.set(n, (a = n === 'kvm' ? new KvmAccelerator(board.memory) : new TcgAccelerator(board.memory, { jit })));
      live.push(a);
    }
    return a;
  };
  const guest = new GuestVcpu(board, accel(first));
  guest.vcpu.setState(board.loadKernel(ring3 ? chatty3() : chatty()).state);
  const switched: Run['switched'] = [];
  const outcome = await runBoard(guest, {
    switches: plan.map(([afterExits, to]) => ({ afterExits, to: accel(to) })),
    onSwitch: (from, to, at) => switched.push([from, to, at]),
  });
  return { outcome, out: Buffer.from(bytes).toString('latin1'), guest, switched };
}

describe('moving a running guest between backends', () => {
  it('the uninterrupted runs agree (tcg)', async () => {
    const t = await run('tcg', []);
    expect(t.out).toBe(want.text);
    expect(t.outcome).toEqual({ kind: 'exit', status: want.status });
  });

  kit('the uninterrupted runs agree (kvm)', async () => {
    const k = await run('kvm', []);
    expect(k.out).toBe(want.text);
    expect(k.outcome).toEqual({ kind: 'exit', status: want.status });
    // two port I/O exits per character at least
    expect(k.guest.vcpu.exits).toBeGreaterThanOrEqual(2 * want.text.length);
  });

  kit('kvm -> tcg at several exit counts', async () => {
    for (const n of [0, 1, 2, 3, 10, 333, 1000, 2 * want.text.length - 5]) {
      const r = await run('kvm', [[n, 'tcg']]);
      expect([n, r.out.length, r.outcome]).toEqual([n, want.text.length, { kind: 'exit', status: want.status }]);
      expect(r.out).toBe(want.text);
      expect(r.switched).toEqual([['kvm', 'tcg', n]]);
      expect(r.guest.name).toBe('tcg');
    }
  }, 60_000);

  kit('tcg -> kvm at several exit counts (I/O accesses; the switch at the end of that block)', async () => {
    for (const n of [0, 1, 2, 3, 10, 333, 1000, 2 * want.text.length - 5]) {
      const r = await run('tcg', [[n, 'kvm']]);
      expect([n, r.out.length, r.outcome]).toEqual([n, want.text.length, { kind: 'exit', status: want.status }]);
      expect(r.out).toBe(want.text);
      expect(r.switched.length).toBe(1);
      const [from, to, at] = r.switched[0]!;
      expect([from, to]).toEqual(['tcg', 'kvm']);
      // a block holds a few port accesses at most
      expect(at).toBeGreaterThanOrEqual(n);
      expect(at).toBeLessThan(n + 4);
      expect(r.guest.name).toBe('kvm');
    }
  }, 60_000);

  kit('back and forth many times, reusing each backend vCPU (the software CPU with the JIT off, on, forced)', async () => {
    for (const jit of ['off', 'on', 'force'] as const) {
      const plan: [number, AccelName][] = [];
      for (let i = 0; i < 12; i++) plan.push([50 + 37 * i, i % 2 ? 'kvm' : 'tcg']);
      const r = await run('kvm', plan, jit);
      expect([jit, r.outcome]).toEqual([jit, { kind: 'exit', status: want.status }]);
      expect(r.out).toBe(want.text);
      expect(r.switched.map(([f, t]) => `${f}>${t}`)).toEqual(plan.map(([, to]) => `${to === 'tcg' ? 'kvm' : 'tcg'}>${to}`));
    }
  }, 60_000);

  kit('a guest running in ring 3 (TSS, IDT, user paging) moves both ways at several points', async () => {
    for (const first of ['tcg', 'kvm'] as const) {
      const r0 = await run(first, [], 'on', true);
      expect([first, r0.outcome]).toEqual([first, { kind: 'exit', status: want.status }]);
      expect(r0.out).toBe(want.text);
      for (const n of [5, 400, 1200]) {
        const other = first === 'tcg' ? 'kvm' : 'tcg';
        const r = await run(first, [[n, other], [n, first], [n, other]], 'on', true);
        expect([first, n, r.outcome, r.switched.length]).toEqual([first, n, { kind: 'exit', status: want.status }, 3]);
        expect(r.out).toBe(want.text);
        const s = r.guest.vcpu.getState();
        expect([s.cs.selector, s.cs.dpl, s.ss.dpl]).toEqual([0x23, 3, 3]);
      }
    }
  }, 60_000);

  kit('switchBackend moves the whole CpuState both ways, and a halted guest stays halted', async () => {
    const board = new Board({ ramSize: 16 << 20, cpuReserve: CPU_EXTRA_BYTES, output: () => {} });
    const tcg = new TcgAccelerator(board.memory);
    const k = new KvmAccelerator(board.memory);
    live.push(tcg, k);
    const g = new GuestVcpu(board, k);
    g.vcpu.setState(board.loadKernel(buildKernel(`
      .globl _start
      _start:
        mov $0x1122334455667788, %rax
        mov $0x99, %r15
        mov $0x3f8, %dx
        out %al, %dx
        stc
        cli
        hlt
    `, { bits: 64 })).state);
    expect(g.vcpu.run()).toEqual({ kind: 'halt' });
    const before = g.vcpu.getState();
    const t = switchBackend(g, tcg);
    expect(t).toBeInstanceOf(TcgVcpu);
    const onTcg = t.getState();
    expect(onTcg.gpr).toEqual(before.gpr);
    expect(onTcg.rip).toBe(before.rip);
    expect(onTcg.rflags & 0xfffn).toBe(before.rflags & 0xfffn);
    expect(onTcg.halted).toBe(true);
    for (const s of ['cs', 'ss', 'ds', 'tr', 'ldtr'] as const) expect([s, onTcg[s]]).toEqual([s, before[s]]);
    expect([onTcg.cr0, onTcg.cr3, onTcg.cr4, onTcg.efer, onTcg.gdtr, onTcg.idtr]).toEqual(
      [before.cr0, before.cr3, before.cr4, before.efer, before.gdtr, before.idtr],
    );
    expect(t.run(100)).toEqual({ kind: 'halt' });
    const back = switchBackend(g, k);
    expect(back.getState().gpr).toEqual(before.gpr);
    expect(back.run()).toEqual({ kind: 'halt' });
  });
});

describe('switch failures', () => {
  it('a backend refusing the state ends the run with an error outcome, the guest left where it was', async () => {
    const board = new Board({ ramSize: 16 << 20, cpuReserve: CPU_EXTRA_BYTES, output: () => {} });
    const tcg = new TcgAccelerator(board.memory);
    live.push(tcg);
    const refusing: Accelerator = {
      name: 'kvm',
      createVcpu: () => ({
        run: () => ({ kind: 'halt' }),
        getState: () => { throw new Error('unused'); },
        setState: () => { throw new AccelError('KVM_SET_SREGS: Invalid argument'); },
        injectInterrupt: () => {},
        connectInterrupts: () => {},
        interruptsChanged: () => {},
        injectNmi: () => {},
        requestStop: () => {},
        exits: 0,
      }),
      close: () => {},
    };
    const g = new GuestVcpu(board, tcg);
    g.vcpu.setState(board.loadKernel(chatty()).state);
    const outcome = await runBoard(g, { switches: [{ afterExits: 10, to: refusing }] });
    expect(outcome).toEqual({ kind: 'error', message: 'cannot switch from tcg to kvm: KVM_SET_SREGS: Invalid argument' });
    expect(g.name).toBe('tcg');
  });
});

describe('kemu run --switch-to', () => {
  const KEMU = join(import.meta.dirname, '..', 'bin', 'kemu.mjs');
  const file = () => {
    const path = join(scratchDir(), 'chatty.elf');
    writeFileSync(path, chatty());
    return path;
  };
  const kemu = (args: string[]) => spawnSync(process.execPath, [KEMU, 'run', ...args], { encoding: 'utf8', timeout: 60_000 });

  kit('kvm -> tcg and tcg -> kvm: the output and status of an uninterrupted run; the switch noted on stderr', () => {
    const k = file();
    for (const [first, to] of [['kvm', 'tcg'], ['tcg', 'kvm']]) {
      const r = kemu(['--accel', first!, '--switch-to', to!, '--after-exits', '777', k]);
      expect([first, r.status, r.stdout]).toEqual([first, want.status, want.text]);
      expect(r.stderr).toMatch(new RegExp(`^kemu: switched from ${first} to ${to} after 7\\d\\d exits\\n$`));
    }
  });

  kit('stdin reaches the UART across a switch', () => {
    const path = join(scratchDir(), 'echo.elf');
    writeFileSync(path, buildKernel(ECHO_GUEST, { bits: 64 }));
    for (const [first, to] of [['kvm', 'tcg'], ['tcg', 'kvm']]) {
      const r = spawnSync(process.execPath, [KEMU, 'run', '--accel', first!, '--switch-to', to!, '--after-exits', '20', path], {
        input: 'kEmU\n', encoding: 'utf8', timeout: 60_000,
      });
      expect([first, r.status, r.stdout]).toEqual([first, 1, 'KeMu']);
      expect(r.stderr).toMatch(/^kemu: switched from/);
    }
  });

  kit('--dump-state gives the state of the backend the guest ended on', () => {
    const dump = join(scratchDir(), 'switched.json');
    const k = file();
    const r = kemu(['--accel', 'kvm', '--switch-to', 'tcg', '--after-exits', '100', '--dump-state', dump, k]);
    expect(r.status).toBe(want.status);
    const st = JSON.parse(spawnSync('cat', [dump], { encoding: 'utf8' }).stdout);
    expect(st.cs.l).toBe(true);
    expect(st.rip).toMatch(/^0x1[0-9a-f]{5}$/);
  });
});
