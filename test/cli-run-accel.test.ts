// `kemu run --accel tcg|kvm|auto`, `--jit`, KEMU_JIT and KEMU_KVM_DEVICE: the choices, their notes and their errors.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { probeKvm } from '../src/accel/kvm/accel.ts';
import { main } from '../src/cli/main.ts';
import { INT80_GUEST } from './accel-guests.ts';
import { chattyGuest, chattyOutput } from './cli-run-guests.ts';
import { buildKernel } from './loader-build.ts';
import { scratchDir } from './util/gnu.ts';

const kvm = probeKvm();
const KVM_SKIP = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;
const KEMU = join(import.meta.dirname, '..', 'bin', 'kemu.mjs');

function runKemu(args: string[], input = '', env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [KEMU, ...args], { input, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `kemu` in this process (for invocations that fail before a guest runs): status and what it wrote. */
async function kemuHere(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const status = await main(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

let chattyPath: string | undefined;
const chatty = () => {
  chattyPath ??= join(scratchDir(), 'chatty40.elf');
  writeFileSync(chattyPath, buildKernel(chattyGuest(40), { bits: 64 }));
  return chattyPath;
};

describe('kemu run --accel / --jit', () => {
  it('--accel errors are one line with status 2', async () => {
    const k = chatty();
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--accel', 'bogus'], {}, /unknown accelerator 'bogus'/],
      [['--accel', 'kvm'], { KEMU_KVM_DEVICE: '/nonexistent/kvm' }, /--accel kvm: KVM is not usable: cannot open \/nonexistent\/kvm/],
      [['--switch-to', 'kvm', '--after-exits', '5'], { KEMU_KVM_DEVICE: '/nonexistent/kvm' }, /KVM is not usable/],
      [['--switch-to', 'tcg', '--after-exits', '5'], {}, /--switch-to tcg: the guest already runs on tcg/],
      [['--switch-to', 'auto', '--after-exits', '5'], {}, /--switch-to takes tcg or kvm/],
      [['--switch-to', 'kvm'], {}, /--switch-to and --after-exits go together/],
      [['--switch-to', 'kvm', '--after-exits', 'many'], {}, /--after-exits 'many' is not a number/],
      [['--jit', 'maybe'], {}, /--jit maybe: expected off, on, force/],
      [[], { KEMU_JIT: 'sometimes' }, /KEMU_JIT='sometimes'/],
    ];
    for (const [args, env, msg] of cases) {
      const r = await kemuHere(['run', ...args, k], env);
      expect([args, r.status, r.stdout, r.stderr.trim().split('\n').length]).toEqual([args, 2, '', 1]);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('--accel auto says which backend it took, on stderr', () => {
    const k = chatty();
    const want = chattyOutput(40);
    const fallback = runKemu(['run', '--accel', 'auto', k], '', { KEMU_KVM_DEVICE: '/nonexistent/kvm' });
    expect([fallback.status, fallback.stdout]).toEqual([want.status, want.text]);
    expect(fallback.stderr).toMatch(/^kemu: accel: tcg \(KVM not usable: cannot open \/nonexistent\/kvm.*\)\n$/);
    const auto = runKemu(['run', '--accel', 'auto', k]);
    expect([auto.status, auto.stdout]).toEqual([want.status, want.text]);
    expect(auto.stderr).toMatch(kvm.ok ? /^kemu: accel: kvm \(\/dev\/kvm/ : /^kemu: accel: tcg \(KVM not usable/);
  });

  it('--jit off|on|force and KEMU_JIT give the same run', () => {
    const k = chatty();
    const want = chattyOutput(40);
    for (const [args, env] of [[['--jit', 'off'], {}], [[], { KEMU_JIT: 'force' }], [['--jit', 'on'], { KEMU_JIT: 'off' }]] as const) {
      const r = runKemu(['run', ...args, k], '', env);
      expect([args, env, r.status, r.stdout, r.stderr]).toEqual([args, env, want.status, want.text, '']);
    }
  });

  it.skipIf(!kvm.ok)('--trace and --max-insns are tcg only: a note under kvm' + KVM_SKIP, () => {
    const r = runKemu(['run', '--accel', 'kvm', '--trace', 'exec', '--max-insns', '10', chatty()]);
    expect(r.status).toBe(chattyOutput(40).status);
    expect(r.stderr).toBe(
      'kemu: --trace is for the software CPU (tcg): ignored under kvm\n' +
        'kemu: --max-insns counts software-CPU instructions: ignored under kvm\n',
    );
  });

  it('--max-insns stops the software CPU with status 124', () => {
    const r = runKemu(['run', '--max-insns', '1000', chatty()]);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/instruction limit reached at rip 0x/);
  });

  it.skipIf(!kvm.ok)('--kvm-fallback: what KVM cannot emulate runs on the software CPU (on by default)' + KVM_SKIP, () => {
    // INT n in long-mode ring 0: an emulation failure under kvm_pvm (on VT-x/AMD-V hosts it simply runs natively)
    const path = join(scratchDir(), 'int80.elf');
    writeFileSync(path, buildKernel(INT80_GUEST, { bits: 64 }));
    const tcg = runKemu(['run', path]);
    expect([tcg.status, tcg.stdout]).toEqual([3, 'AB']);
    const k = runKemu(['run', '--accel', 'kvm', path]);
    expect([k.status, k.stdout]).toEqual([3, 'AB']);
    if (k.stderr !== '') expect(k.stderr).toMatch(/emulation failure.*\nkemu: the software CPU runs such instructions for KVM/s);
    const off = runKemu(['run', '--accel', 'kvm', '--kvm-fallback', 'off', path]);
    if (k.stderr !== '') {
      expect(off.status).toBe(1);
      expect(off.stderr).toMatch(/^kemu: kvm: KVM_EXIT_INTERNAL_ERROR \(emulation failure\).* at rip=0x/);
    } else expect([off.status, off.stdout]).toEqual([3, 'AB']);
  });
});

