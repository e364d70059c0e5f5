// `kemu guest`: build ready-to-boot guests from distribution packages.
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fetchDebianGuest, GuestError } from '../guest/debian.ts';
import { parseArgs, UsageError, type Command } from './common.ts';

export function defaultGuestDir(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'kemu', 'debian');
}

const USAGE = `Usage: kemu guest debian [--dir DIR]

Builds a Linux guest from Debian packages with the host's apt: the kernel of linux-image-amd64 (a bzImage) as
DIR/vmlinuz, the same kernel uncompressed as DIR/vmlinux (it boots through its PVH note without running the
decompressor: the quicker start where ring-0 guest code is slow, as under kvm_pvm), and DIR/initrd.gz, a busybox-static initramfs whose /init mounts proc, sysfs and devtmpfs and runs a
shell on the console ('poweroff -f' ends it). The .debs are cached in DIR/debs. Needs apt-get, apt-cache and
dpkg-deb; 'apt-get update' (root) only if the package lists are empty.

  --dir DIR   where to put the guest (default: \${XDG_CACHE_HOME:-~/.cache}/kemu/debian)`;

/** A path as the user should type it: relative to the working directory when that is shorter. */
function shown(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && rel.length < p.length ? rel : p;
}

export const guest: Command = {
  name: 'guest',
  summary: 'build a bootable Linux guest (kernel + busybox initramfs) from Debian packages',
  usage: USAGE,
  async run(args) {
    const { flags, positionals } = parseArgs(args, { values: ['--dir'] }, 'guest');
    if (positionals.length !== 1 || positionals[0] !== 'debian') {
      throw new UsageError(`guest: expected 'debian' (see kemu guest --help)`);
    }
    const dir = (flags.get('--dir') as string | undefined) ?? defaultGuestDir();
    let g;
    try {
      g = fetchDebianGuest({ dir, log: (l) => process.stderr.write(`kemu: ${l}\n`) });
    } catch (e) {
      if (e instanceof GuestError) throw new UsageError(`guest debian: ${e.message}`);
      throw e;
    }
    process.stdout.write(
      [
        `Debian guest ready (${g.kernelPackage}). Boot it with:`,
        '',
        `  npx kemu run --kernel ${shown(g.kernel)} --initrd ${shown(g.initrd)} --append "console=ttyS0" -m 512M`,
        '',
        `(or --kernel ${shown(g.vmlinux)}: the same kernel uncompressed). In the guest, 'poweroff -f' ends the run.`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
