// A minimal busybox initramfs: /bin/busybox, /dev/console (the kernel opens it for init's stdio before /init
// runs), the mount points, and an /init script that mounts proc, sysfs and devtmpfs, installs the applet links,
// prints a banner and runs a shell on the console. gzip-compressed, as the kernel's initramfs unpacker takes it.

import { gzipSync } from 'node:zlib';
import { writeCpio, type CpioEntry } from './cpio.js';

export interface InitramfsOptions {
  /** A statically linked busybox binary. */
  busybox: Uint8Array;
  /** The /init script (default: initScript()). */
  init?: string;
  /** More entries (modules, test programs...). */
  extra?: CpioEntry[];
}

export const DEFAULT_BANNER = 'kemu: busybox initramfs up';

/** The /init script: a busybox sh script; `poweroff -f` ends the guest, and so does leaving the shell. */
export function initScript(banner = DEFAULT_BANNER): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp /run
mount -t devpts devpts /dev/pts 2>/dev/null
hostname kemu
echo
echo "${banner.replace(/["\\$`]/g, '\\$&')}"
echo "Linux $(uname -r) on $(uname -m); type 'poweroff -f' to power off ('reboot -f' to reset)."
# cttyhack finds the real console device behind /dev/console so the shell gets job control.
setsid cttyhack sh -l
echo "init: shell exited, powering off"
poweroff -f
# Without ACPI (no S5 sleep state) the kernel cannot power off and returns: reset instead (i8042), which also
# ends a kemu run, rather than exiting init and panicking.
reboot -f
`;
}

/** The login shell's profile. `poweroff` falls back to a reset when the kernel cannot power off (no ACPI S5), so
 * that it still ends the run. */
export const PROFILE = `export PS1='\\u@\\h:\\w\\$ '
export HOME=/root
cd
poweroff() { /bin/busybox poweroff -f; /bin/busybox reboot -f; }
`;

/** The archive entries (uncompressed order: directories first, then files). */
export function initramfsEntries(opts: InitramfsOptions): CpioEntry[] {
  const dirs = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'run', 'etc', 'root'];
  return [
    ...dirs.map((path): CpioEntry => ({ type: 'dir', path, mode: path === 'tmp' ? 0o1777 : 0o755 })),
    { type: 'char', path: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { type: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { type: 'char', path: 'dev/ttyS0', major: 4, minor: 64, mode: 0o600 },
    { type: 'file', path: 'bin/busybox', data: opts.busybox, mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'file', path: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n', mode: 0o644 },
    { type: 'file', path: 'etc/group', data: 'root:x:0:\n', mode: 0o644 },
    { type: 'file', path: 'etc/profile', data: PROFILE, mode: 0o644 },
    { type: 'file', path: 'init', data: opts.init ?? initScript(), mode: 0o755 },
    ...(opts.extra ?? []),
  ];
}

/** The gzip-compressed newc archive, ready to pass as an initrd. */
export function buildInitramfs(opts: InitramfsOptions): Uint8Array {
  return new Uint8Array(gzipSync(writeCpio(initramfsEntries(opts)), { level: 9 }));
}
