// Debian's stock kernel and busybox (fetched by `kemu guest debian` through apt) boot to the shell on the software
// CPU; commands typed over the serial console run and `poweroff -f` ends kemu with status 0. Runs with
// KEMU_GUEST_TESTS=1 (CI sets it; KEMU_GUEST_DIR caches the download), as the download needs Debian's archive.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchDebianGuest } from '../src/guest/debian.ts';

const KEMU = join(import.meta.dirname, '..', 'bin', 'kemu.mjs');
const PROMPT = 'root@kemu:~# ';

/** A `kemu run` child with its console: wait for text, type lines. */
class Console {
  out = '';
  private readonly child;
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [KEMU, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const take = (b: Buffer) => {
      this.out += b.toString('latin1').replace(/\r/g, '');
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', take);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves when the output after `from` contains `text`; returns the output between. */
  async waitFor(text: string, from: number, ms: number): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const at = this.out.indexOf(text, from);
      if (at >= 0) return this.out.slice(from, at);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}; output so far:\n${this.out.slice(-3000)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }

  /**
   * Types a command and returns what it printed (up to the next prompt). The output starts after a marker the shell
   * computes, so the echo of a long command line (wrapped by the terminal) is never mistaken for output.
   */
  async run(cmd: string, ms = 120_000): Promise<string> {
    const from = this.out.length;
    this.child.stdin.write(`echo @@$((6*7))@@; ${cmd}\n`);
    const text = await this.waitFor(PROMPT, from, ms);
    const mark = text.indexOf('@@42@@\n');
    return mark < 0 ? text : text.slice(mark + 7);
  }

  type(text: string): void {
    this.child.stdin.write(text);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

describe.skipIf(process.env.KEMU_GUEST_TESTS !== '1')('Debian Linux on the software CPU (KEMU_GUEST_TESTS=1)', () => {
  it('boots to the busybox shell, runs commands typed on the serial console, powers off with status 0', { timeout: 900_000 }, async () => {
    const dir = process.env.KEMU_GUEST_DIR ?? join(tmpdir(), 'kemu-guest-debian');
    const g = existsSync(join(dir, 'vmlinuz')) && existsSync(join(dir, 'initrd.gz')) ? { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz') } : fetchDebianGuest({ dir });
    const con = new Console(['run', '--accel', 'tcg', '--kernel', g.kernel, '--initrd', g.initrd, '--append', 'console=ttyS0 quiet', '-m', '512M']);
    try {
      const t0 = Date.now();
      await con.waitFor(PROMPT, 0, 600_000);
      const bootMs = Date.now() - t0;
      console.log(`linux-boot: shell prompt after ${(bootMs / 1000).toFixed(1)} s`);

      expect(await con.run('uname -a')).toMatch(/^Linux kemu 6\.\d+\.\d+-\d+-amd64 #1 SMP .* x86_64 GNU\/Linux\n$/);
      const cpu = await con.run('grep -c ^processor /proc/cpuinfo; grep -m1 "model name" /proc/cpuinfo; grep -m1 ^flags /proc/cpuinfo');
      expect(cpu).toMatch(/^1\nmodel name\t: kemu software x86-64 CPU\n/);
      for (const f of ['fpu', 'sse2', 'ssse3', 'sse4_2', 'xsave', 'apic', 'lm']) expect(cpu).toMatch(new RegExp(`\\b${f}\\b`));
      // the CPU model says it does not speculate: no return thunks on every return, no retpolines
      const vuln = '/sys/devices/system/cpu/vulnerabilities';
      expect(await con.run(`cat ${vuln}/retbleed ${vuln}/spec_rstack_overflow ${vuln}/spectre_v2`))
        .toMatch(/^Not affected\nNot affected\nMitigation: Enhanced \/ Automatic IBRS/);
      const want = createHash('md5').update('kemu runs linux\n').digest('hex');
      expect(await con.run('echo "kemu runs linux" | md5sum')).toBe(`${want}  -\n`);
      expect(await con.run("printf '30\\n4\\n200\\n1\\n' | sort -n | tr '\\n' ' '; echo")).toBe('1 4 30 200 \n');
      expect(await con.run('echo $((6 * 7)) $(cat /proc/sys/kernel/ostype)')).toBe('42 Linux\n');

      con.type('poweroff -f\n');
      expect(await con.exited).toBe(0);
    } finally {
      con.kill();
    }
  });
});
