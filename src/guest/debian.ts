// `kemu guest debian`: a bootable Linux guest from Debian's own packages — the kernel of linux-image-amd64 and a
// busybox-static initramfs. Uses the host's apt (`apt-get download` needs no root; `apt-get update`, only run when
// the package lists are empty, does) and dpkg-deb, so it works on Debian and Ubuntu hosts.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GuestError } from './error.ts';
import { buildInitramfs } from './initramfs.js';
import { extractVmlinux } from './vmlinux.ts';

export { GuestError };

export const KERNEL_METAPACKAGE = 'linux-image-amd64';
export const BUSYBOX_PACKAGE = 'busybox-static';


export interface DebianGuestOptions {
  /** Where vmlinuz and initrd.gz go; downloaded .debs are cached in DIR/debs. */
  dir: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface DebianGuest {
  /** The bzImage. */
  kernel: string;
  /** The same kernel uncompressed (boots through its PVH note, without the decompressor). */
  vmlinux: string;
  initrd: string;
  kernelPackage: string;
}

/** The concrete kernel package a metapackage depends on, from `apt-cache depends` output. */
export function resolveKernelPackage(dependsOutput: string): string | undefined {
  for (const line of dependsOutput.split('\n')) {
    const m = /^\s*\|?Depends:\s*<?(linux-image-[0-9][^\s>]*)>?\s*$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** The candidate version in `apt-cache policy PKG` output, undefined if apt knows none. */
export function policyCandidate(policyOutput: string): string | undefined {
  const m = /^\s*Candidate:\s*(\S+)/m.exec(policyOutput);
  return m && m[1] !== '(none)' ? m[1] : undefined;
}

/** The cached .deb of a package in `dir`, if one was downloaded before (apt names them PKG_VERSION_ARCH.deb). */
export function cachedDeb(dir: string, pkg: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const hit = readdirSync(dir).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb')).sort().pop();
  return hit && join(dir, hit);
}

function run(cmd: string, args: string[], cwd?: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new GuestError(`'${cmd}' not found: kemu guest debian needs a Debian or Ubuntu host (apt and dpkg)`);
  }
  if (r.error) throw new GuestError(`${cmd}: ${r.error.message}`);
  return r;
}

function must(cmd: string, args: string[], cwd?: string): string {
  const r = run(cmd, args, cwd);
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout || '').trim().split('\n').filter(Boolean).pop() ?? `exit status ${r.status}`;
    throw new GuestError(`${cmd} ${args.join(' ')} failed: ${why}`);
  }
  return r.stdout;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Makes sure apt knows both packages: runs `apt-get update` once if it does not (which needs root). */
function ensureLists(log: (l: string) => void): void {
  const known = (): boolean =>
    [KERNEL_METAPACKAGE, BUSYBOX_PACKAGE].every((p) => policyCandidate(run('apt-cache', ['policy', p]).stdout) !== undefined);
  if (known()) return;
  if (!isRoot()) {
    throw new GuestError(
      `apt knows no ${KERNEL_METAPACKAGE} or ${BUSYBOX_PACKAGE}: the package lists are empty or lack Debian main; ` +
        'run `sudo apt-get update` first',
    );
  }
  log('apt package lists are empty: running apt-get update');
  must('apt-get', ['update', '-q']);
  if (!known()) throw new GuestError(`apt-get update ran but apt still has no ${KERNEL_METAPACKAGE} or ${BUSYBOX_PACKAGE}`);
}

/** Downloads PKG's .deb into `debs` unless it is cached there; returns its path. */
function download(pkg: string, debs: string, log: (l: string) => void): string {
  const cached = cachedDeb(debs, pkg);
  if (cached) {
    log(`using cached ${cached}`);
    return cached;
  }
  log(`apt-get download ${pkg}`);
  // As root apt would drop to the _apt user, who cannot write to an arbitrary directory: stay root for this.
  const sandbox = isRoot() ? ['-o', 'APT::Sandbox::User=root'] : [];
  must('apt-get', [...sandbox, 'download', '-q', pkg], debs);
  const deb = cachedDeb(debs, pkg);
  if (!deb) throw new GuestError(`apt-get download ${pkg} left no .deb in ${debs}`);
  return deb;
}

/** Extracts the files matching a tar wildcard (e.g. './boot/vmlinuz-*') from a .deb into `dest`. */
function extract(deb: string, pattern: string, dest: string): void {
  // dpkg-deb --fsys-tarfile, filtered by tar: the kernel package unpacks to ~400 MB of modules we do not need.
  const r = run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "$3"', 'sh', deb, dest, pattern]);
  if (r.status !== 0) throw new GuestError(`extracting ${pattern} from ${deb} failed: ${r.stderr.trim()}`);
}

export function fetchDebianGuest(opts: DebianGuestOptions): DebianGuest {
  const log = opts.log ?? (() => {});
  const dir = resolve(opts.dir);
  const debs = join(dir, 'debs');
  mkdirSync(debs, { recursive: true });

  ensureLists(log);
  const kernelPackage = resolveKernelPackage(must('apt-cache', ['depends', KERNEL_METAPACKAGE]));
  if (!kernelPackage) throw new GuestError(`apt-cache depends ${KERNEL_METAPACKAGE} names no linux-image-<version> package`);
  log(`${KERNEL_METAPACKAGE} -> ${kernelPackage}`);
  const kernelDeb = download(kernelPackage, debs, log);
  const busyboxDeb = download(BUSYBOX_PACKAGE, debs, log);

  const tmp = mkdtempSync(join(dir, '.extract-'));
  try {
    extract(kernelDeb, './boot/vmlinuz-*', tmp);
    const vmlinuz = readdirSync(join(tmp, 'boot')).filter((f) => f.startsWith('vmlinuz-'));
    if (vmlinuz.length !== 1) throw new GuestError(`${kernelDeb} holds ${vmlinuz.length} /boot/vmlinuz-* files, expected 1`);
    extract(busyboxDeb, './bin/busybox', tmp);
    const busybox = new Uint8Array(readFileSync(join(tmp, 'bin', 'busybox')));

    const kernel = join(dir, 'vmlinuz');
    const initrd = join(dir, 'initrd.gz');
    const image = new Uint8Array(readFileSync(join(tmp, 'boot', vmlinuz[0]!)));
    writeFileSync(kernel, image);
    log(`wrote ${kernel} (${vmlinuz[0]})`);
    const vmlinux = join(dir, 'vmlinux');
    writeFileSync(vmlinux, extractVmlinux(image));
    log(`wrote ${vmlinux} (uncompressed)`);
    writeFileSync(initrd, buildInitramfs({ busybox }));
    log(`wrote ${initrd}`);
    return { kernel, vmlinux, initrd, kernelPackage };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
