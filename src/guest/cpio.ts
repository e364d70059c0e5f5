// The "newc" (SVR4, no CRC) cpio format the Linux initramfs unpacker reads: per entry a 110-byte ASCII header —
// the magic 070701 and thirteen 8-digit hex fields — then the NUL-terminated name padded to a multiple of 4, then
// the data padded to a multiple of 4; the archive ends with an entry named TRAILER!!!.

export const NEWC_MAGIC = '070701';
export const TRAILER = 'TRAILER!!!';
const HEADER_SIZE = 110;

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

export type CpioEntry =
  | { type: 'file'; path: string; data: Uint8Array | string; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char' | 'block'; path: string; major: number; minor: number; mode?: number };

export interface CpioOptions {
  /** Modification time of every entry, seconds since the epoch (default 0: reproducible archives). */
  mtime?: number;
  uid?: number;
  gid?: number;
  /** Add the missing parent directories of each entry (mode 0755) before it (default true). */
  parents?: boolean;
}

/** One entry as read back from an archive. */
export interface CpioRecord {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  data: Uint8Array;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
}

export class CpioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CpioError';
  }
}

const enc = new TextEncoder();
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** Archive names are relative ("init", "dev/console"), as the kernel's own gen_init_cpio writes them. */
export function normalizePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new CpioError(`cpio path '${path}' contains '..'`);
  if (!parts.length) throw new CpioError(`empty cpio path '${path}'`);
  return parts.join('/');
}

function modeOf(e: CpioEntry): number {
  switch (e.type) {
    case 'file': return S_IFREG | ((e.mode ?? 0o644) & 0o7777);
    case 'dir': return S_IFDIR | ((e.mode ?? 0o755) & 0o7777);
    case 'symlink': return S_IFLNK | 0o777;
    case 'char': return S_IFCHR | ((e.mode ?? 0o600) & 0o7777);
    case 'block': return S_IFBLK | ((e.mode ?? 0o600) & 0o7777);
  }
}

function dataOf(e: CpioEntry): Uint8Array {
  if (e.type === 'file') return typeof e.data === 'string' ? enc.encode(e.data) : e.data;
  if (e.type === 'symlink') return enc.encode(e.target);
  return new Uint8Array(0);
}

function header(fields: number[]): string {
  return NEWC_MAGIC + fields.map((v) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new CpioError(`cpio header field ${v} out of range`);
    return v.toString(16).toUpperCase().padStart(8, '0');
  }).join('');
}

/** Writes a newc archive (uncompressed). Duplicate paths are an error. */
export function writeCpio(entries: CpioEntry[], opts: CpioOptions = {}): Uint8Array {
  const { mtime = 0, uid = 0, gid = 0, parents = true } = opts;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let ino = 1;
  const seen = new Set<string>();
  const push = (b: Uint8Array): void => {
    chunks.push(b);
    size += b.length;
  };
  const emit = (name: string, mode: number, data: Uint8Array, nlink: number, rmaj = 0, rmin = 0, inode = ino++): void => {
    const nameBytes = enc.encode(name + '\0');
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    const h = enc.encode(header([inode, mode, uid, gid, nlink, mtime, data.length, 0, 0, rmaj, rmin, nameBytes.length, 0]));
    push(h);
    push(nameBytes);
    push(new Uint8Array(pad4(HEADER_SIZE + nameBytes.length)));
    if (data.length) {
      push(data);
      push(new Uint8Array(pad4(data.length)));
    }
  };
  for (const e of entries) {
    const path = normalizePath(e.path);
    if (seen.has(path)) throw new CpioError(`duplicate cpio entry '${path}'`);
    if (parents) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!seen.has(dir)) {
          seen.add(dir);
          emit(dir, S_IFDIR | 0o755, new Uint8Array(0), 2);
        }
      }
    }
    seen.add(path);
    const dev = e.type === 'char' || e.type === 'block';
    emit(path, modeOf(e), dataOf(e), e.type === 'dir' ? 2 : 1, dev ? e.major : 0, dev ? e.minor : 0);
  }
  emit(TRAILER, 0, new Uint8Array(0), 1, 0, 0, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Reads a newc archive back (up to the trailer); for tests and for checking what was built. */
export function parseCpio(bytes: Uint8Array): CpioRecord[] {
  const dec = new TextDecoder();
  const out: CpioRecord[] = [];
  let at = 0;
  for (;;) {
    if (at + HEADER_SIZE > bytes.length) throw new CpioError(`truncated cpio header at ${at}`);
    const h = dec.decode(bytes.subarray(at, at + HEADER_SIZE));
    if (!h.startsWith(NEWC_MAGIC)) throw new CpioError(`bad cpio magic '${h.slice(0, 6)}' at ${at}`);
    const f = Array.from({ length: 13 }, (_, i) => {
      const s = h.slice(6 + i * 8, 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new CpioError(`bad cpio header field '${s}' at ${at}`);
      return parseInt(s, 16);
    });
    const [ino, mode, uid, gid, nlink, mtime, filesize, devMajor, devMinor, rdevMajor, rdevMinor, namesize] = f as [
      number, number, number, number, number, number, number, number, number, number, number, number,
    ];
    const nameStart = at + HEADER_SIZE;
    if (namesize < 1 || nameStart + namesize > bytes.length) throw new CpioError(`bad cpio name size at ${at}`);
    const name = dec.decode(bytes.subarray(nameStart, nameStart + namesize - 1));
    const dataStart = nameStart + namesize + pad4(HEADER_SIZE + namesize);
    if (dataStart + filesize > bytes.length) throw new CpioError(`truncated data of '${name}'`);
    if (name === TRAILER) return out;
    out.push({
      name, ino, mode, uid, gid, nlink, mtime, devMajor, devMinor, rdevMajor, rdevMinor,
      data: bytes.slice(dataStart, dataStart + filesize),
    });
    at = dataStart + filesize + pad4(filesize);
  }
}
