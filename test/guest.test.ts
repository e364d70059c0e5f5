// `kemu guest debian` and the busybox initramfs. The pieces are unit-tested always; the real download (~70 MB of
// Debian packages through the host's apt) runs only with KEMU_GUEST_TESTS=1 (KEMU_GUEST_DIR: where to cache it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCpio, S_IFCHR, S_IFLNK, S_IFMT, S_IFREG } from '../src/guest/cpio.js';
import { cachedDeb, fetchDebianGuest, policyCandidate, resolveKernelPackage } from '../src/guest/debian.js';
import { buildInitramfs, initScript, PROFILE } from '../src/guest/initramfs.js';
import { detectKernelFormat, loadKernel } from '../src/machine/loader/index.js';
import { parseSetupHeader } from '../src/machine/loader/zeropage.js';
import { GuestMemory } from '../src/machine/memory.js';

const KEMU = join(import.meta.dirname, '..', 'bin', 'kemu.mjs');
const kemu = (...args: string[]) => spawnSync(process.execPath, [KEMU, ...args], { encoding: 'utf8' });

describe('Debian package resolution', () => {
  it('finds the concrete kernel package behind linux-image-amd64', () => {
    const out = 'linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n';
    expect(resolveKernelPackage(out)).toBe('linux-image-6.1.0-56-amd64');
    expect(resolveKernelPackage('linux-image-amd64\n |Depends: <linux-image-6.12.9+bpo-amd64>\n  Recommends: firmware\n'))
      .toBe('linux-image-6.12.9+bpo-amd64');
    expect(resolveKernelPackage('linux-image-amd64\n  Recommends: apparmor\n')).toBeUndefined();
    expect(resolveKernelPackage('')).toBeUndefined();
  });

  it('reads the candidate from apt-cache policy', () => {
    expect(policyCandidate('busybox-static:\n  Installed: (none)\n  Candidate: 1:1.35.0-4+b1\n')).toBe('1:1.35.0-4+b1');
    expect(policyCandidate('busybox-static:\n  Installed: (none)\n  Candidate: (none)\n')).toBeUndefined();
    expect(policyCandidate('')).toBeUndefined();
  });

  it('finds cached .debs by package name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemu-debs-'));
    try {
      expect(cachedDeb(join(dir, 'missing'), 'busybox-static')).toBeUndefined();
      writeFileSync(join(dir, 'busybox-static_1%3a1.35.0_amd64.deb'), '');
      writeFileSync(join(dir, 'busybox_1%3a1.35.0_amd64.deb'), '');
      expect(cachedDeb(dir, 'busybox-static')).toBe(join(dir, 'busybox-static_1%3a1.35.0_amd64.deb'));
      expect(cachedDeb(dir, 'linux-image-6.1.0-56-amd64')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('busybox initramfs', () => {
  const fakeBusybox = new TextEncoder().encode('\x7fELF-not-really-busybox');
  const recs = parseCpio(new Uint8Array(gunzipSync(buildInitramfs({ busybox: fakeBusybox }))));
  const by = new Map(recs.map((r) => [r.name, r]));

  it('holds /init, busybox, /dev/console and the mount points', () => {
    expect(by.get('init')!.mode).toBe(S_IFREG | 0o755);
    expect(new TextDecoder().decode(by.get('init')!.data)).toBe(initScript());
    expect(by.get('bin/busybox')!.mode).toBe(S_IFREG | 0o755);
    expect(by.get('bin/busybox')!.data).toEqual(fakeBusybox);
    expect(by.get('bin/sh')!.mode & S_IFMT).toBe(S_IFLNK);
    expect(by.get('dev/console')).toMatchObject({ mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 });
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'sbin', 'usr/bin', 'usr/sbin']) expect(by.has(d), d).toBe(true);
    // Every parent comes before its children, as the kernel's unpacker needs.
    const seen = new Set<string>();
    for (const r of recs) {
      const parent = r.name.split('/').slice(0, -1).join('/');
      if (parent) expect(seen.has(parent), r.name).toBe(true);
      seen.add(r.name);
    }
  });

  it('has an /init that mounts proc, sysfs and devtmpfs, prints a banner, runs a shell and powers off', () => {
    const s = initScript('hello "guest"');
    expect(s.startsWith('#!/bin/busybox sh\n')).toBe(true);
    expect(s).toMatch(/mount -t proc proc \/proc/);
    expect(s).toMatch(/mount -t sysfs sysfs \/sys/);
    expect(s).toMatch(/mount -t devtmpfs devtmpfs \/dev/);
    expect(s).toContain('echo "hello \\"guest\\""');
    expect(s).toMatch(/setsid cttyhack sh/);
    expect(s).toMatch(/\npoweroff -f\n(#.*\n)*reboot -f\n$/);
    const check = spawnSync('sh', ['-n'], { input: s, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });

  it("has a profile whose poweroff falls back to a reset (no ACPI S5 yet)", () => {
    expect(new TextDecoder().decode(by.get('etc/profile')!.data)).toBe(PROFILE);
    expect(PROFILE).toMatch(/poweroff\(\) \{ \/bin\/busybox poweroff -f; \/bin\/busybox reboot -f; \}/);
    const check = spawnSync('sh', ['-n'], { input: PROFILE, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });
});

describe('kemu guest', () => {
  it('has usage and rejects unknown distributions', () => {
    const h = kemu('guest', '--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/kemu guest debian \[--dir DIR\]/);
    const bad = kemu('guest', 'fedora');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^kemu: guest: expected 'debian'/);
    expect(kemu('--help').stdout).toMatch(/guest/);
  });
});

describe.skipIf(process.env.KEMU_GUEST_TESTS !== '1')('Debian guest, downloaded (KEMU_GUEST_TESTS=1)', () => {
  const dir = process.env.KEMU_GUEST_DIR ?? join(tmpdir(), 'kemu-guest-debian');

  it('fetches linux-image-amd64 and busybox-static and builds vmlinuz + initrd.gz', { timeout: 600_000 }, () => {
    const g = fetchDebianGuest({ dir });
    expect(g.kernelPackage).toMatch(/^linux-image-\d.*-amd64$/);
    const kernel = new Uint8Array(readFileSync(g.kernel));
    expect(detectKernelFormat(kernel)).toBe('bzimage');
    expect(parseSetupHeader(kernel).relocatable).toBe(true);
    const initrd = new Uint8Array(readFileSync(g.initrd));
    const recs = parseCpio(new Uint8Array(gunzipSync(initrd)));
    const busybox = recs.find((r) => r.name === 'bin/busybox')!;
    expect(Buffer.from(busybox.data.subarray(0, 4)).toString('latin1')).toBe('\x7fELF');
    // The static busybox runs on the host too: check /init parses with its own sh.
    const bb = join(dir, 'busybox.check');
    writeFileSync(bb, busybox.data, { mode: 0o755 });
    const syn = spawnSync(bb, ['sh', '-n'], { input: initScript(), encoding: 'utf8' });
    expect(syn.status, syn.stderr).toBe(0);
    rmSync(bb, { force: true });

    const mem = new GuestMemory(512 << 20);
    const r = loadKernel(kernel, mem, { cmdline: 'console=ttyS0', initrd });
    expect(r.format).toBe('bzimage');
    expect(r.initrd!.end - r.initrd!.start).toBe(initrd.length);

    const cli = kemu('guest', 'debian', '--dir', dir);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/kemu run --kernel .*vmlinuz --initrd .*initrd\.gz --append "console=ttyS0" -m 512M/);
  });
});
