// The newc cpio writer: read back by our own parser always, and listed/extracted by GNU cpio when the host has it
// (installed from Debian's `cpio` package if missing, apt works and we are root; otherwise those checks skip).
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CpioError, normalizePath, parseCpio, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, writeCpio, type CpioEntry,
} from '../src/guest/cpio.js';

function haveCpio(): boolean {
  if (spawnSync('cpio', ['--version']).status === 0) return true;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version']).status !== 0) return false;
  spawnSync('apt-get', ['install', '-y', '-q', 'cpio'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 120_000 });
  return spawnSync('cpio', ['--version']).status === 0;
}
const GNU_CPIO = haveCpio();

const ENTRIES: CpioEntry[] = [
  { type: 'dir', path: '/bin', mode: 0o755 },
  { type: 'file', path: '/bin/tool', data: Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 1, 2, 3), mode: 0o755 },
  { type: 'symlink', path: '/bin/sh', target: 'tool' },
  { type: 'char', path: '/dev/console', major: 5, minor: 1, mode: 0o600 },
  { type: 'block', path: 'dev/ram0', major: 1, minor: 0 },
  { type: 'file', path: 'init', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { type: 'file', path: 'etc/empty', data: '' },
  { type: 'dir', path: 'tmp', mode: 0o1777 },
];

describe('cpio newc writer', () => {
  const archive = writeCpio(ENTRIES, { mtime: 1_700_000_000 });

  it('writes 4-byte aligned newc records ending in TRAILER!!!', () => {
    const text = Buffer.from(archive).toString('latin1');
    expect(text.startsWith('070701')).toBe(true);
    expect(archive.length % 4).toBe(0);
    expect(text).toContain('TRAILER!!!\0');
    // The first header: ino 1, a directory 0755, nlink 2, namesize 4 ("bin\0").
    expect(text.slice(0, 110)).toBe('070701' + ['1', '41ED', '0', '0', '2', '6553F100', '0', '0', '0', '0', '0', '4', '0']
      .map((f) => f.padStart(8, '0')).join(''));
  });

  it('reads back with the right types, modes, data and device numbers; parents added', () => {
    const recs = parseCpio(archive);
    const by = new Map(recs.map((r) => [r.name, r]));
    expect(recs.map((r) => r.name)).toEqual(['bin', 'bin/tool', 'bin/sh', 'dev', 'dev/console', 'dev/ram0', 'init', 'etc', 'etc/empty', 'tmp']);
    expect(by.get('bin/tool')!.mode).toBe(S_IFREG | 0o755);
    expect(by.get('bin/tool')!.data).toEqual(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 1, 2, 3));
    expect(by.get('bin/sh')!.mode & S_IFMT).toBe(S_IFLNK);
    expect(new TextDecoder().decode(by.get('bin/sh')!.data)).toBe('tool');
    expect(by.get('dev')!.mode).toBe(S_IFDIR | 0o755);
    expect(by.get('dev/console')).toMatchObject({ mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 });
    expect(by.get('dev/ram0')!.mode).toBe(0o060600);
    expect(by.get('tmp')!.mode).toBe(S_IFDIR | 0o1777);
    expect(by.get('etc/empty')!.data.length).toBe(0);
    expect(new Set(recs.map((r) => r.ino)).size).toBe(recs.length);
    expect(recs.every((r) => r.mtime === 1_700_000_000)).toBe(true);
  });

  it('round-trips through gzip', () => {
    expect(parseCpio(new Uint8Array(gunzipSync(gzipSync(archive))))).toEqual(parseCpio(archive));
  });

  it('rejects bad paths and duplicates', () => {
    expect(normalizePath('/a//b/./c/')).toBe('a/b/c');
    expect(() => writeCpio([{ type: 'dir', path: '../x' }])).toThrow(CpioError);
    expect(() => writeCpio([{ type: 'dir', path: '/' }])).toThrow(CpioError);
    expect(() => writeCpio([{ type: 'dir', path: 'a' }, { type: 'dir', path: '/a' }])).toThrow(/duplicate/);
    expect(() => parseCpio(archive.subarray(0, 200))).toThrow(CpioError);
    expect(() => parseCpio(new TextEncoder().encode('070707' + '0'.repeat(200)))).toThrow(/magic/);
  });

  it.skipIf(!GNU_CPIO)('is listed and extracted by GNU cpio', () => {
    const list = spawnSync('cpio', ['-t', '-v', '--quiet'], { input: archive, encoding: 'utf8' });
    expect(list.status).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.find((l) => l.endsWith(' dev/console'))).toMatch(/^crw------- .* 5,\s+1 /);
    expect(lines.find((l) => l.includes(' bin/sh'))).toMatch(/^lrwxrwxrwx .* bin\/sh -> tool$/);
    expect(lines.find((l) => l.endsWith(' bin/tool'))).toMatch(/^-rwxr-xr-x /);
    expect(lines.find((l) => l.endsWith(' tmp'))).toMatch(/^drwxrwxrwt /);

    const dir = mkdtempSync(join(tmpdir(), 'kemu-cpio-'));
    try {
      writeFileSync(join(dir, 'a.cpio'), archive);
      const x = spawnSync('sh', ['-c', 'mkdir out && cd out && cpio -i -d --quiet --no-absolute-filenames < ../a.cpio'], {
        cwd: dir, encoding: 'utf8',
      });
      // Device nodes need root; everything else must extract.
      const out = join(dir, 'out');
      expect(readFileSync(join(out, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
      expect(readlinkSync(join(out, 'bin/sh'))).toBe('tool');
      expect(lstatSync(join(out, 'bin/tool')).mode & 0o777).toBe(0o755);
      if (process.getuid?.() === 0) {
        expect(x.status, x.stderr).toBe(0);
        const st = lstatSync(join(out, 'dev/console'));
        expect(st.isCharacterDevice()).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
