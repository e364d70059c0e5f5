// The uncompressed kernel (vmlinux) inside a bzImage, as the kernel's own scripts/extract-vmlinux finds it: the
// setup header names the compressed payload (payload_offset/payload_length, boot protocol 2.08+), whose magic says
// the format. gzip is decompressed in Node; xz and zstd by the host's `xz`/`zstd` (xz-utils is in every Debian).
// The result is an ELF with the Xen PVH note, which boots without running the kernel's decompressor — the thing
// that makes Linux usable on a host where ring-0 guest code is slow (kvm_pvm emulates it instruction by instruction).
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { GuestError } from './error.ts';

const FORMATS: [string, number[], string[] | undefined][] = [
  ['gzip', [0x1f, 0x8b], undefined],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], ['xz', '-dc', '--single-stream']],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd], ['zstd', '-dcq']],
];

/** The compressed payload of a bzImage and its format. */
export function bzImagePayload(image: Uint8Array): { format: string; data: Uint8Array } {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length < 0x250 || dv.getUint32(0x202, true) !== 0x53726448) throw new GuestError('not a Linux bzImage (no HdrS header)');
  if (dv.getUint16(0x206, true) < 0x208) throw new GuestError('bzImage boot protocol older than 2.08 names no payload');
  const setupSects = image[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + dv.getUint32(0x248, true);
  const end = start + dv.getUint32(0x24c, true);
  if (end > image.length) throw new GuestError('bzImage payload runs past the end of the file');
  // the build appends the uncompressed size (4 bytes, little-endian) to every format's stream
  const data = image.subarray(start, end - 4);
  for (const [format, magic] of FORMATS) if (magic.every((b, i) => data[i] === b)) return { format, data };
  throw new GuestError(`bzImage payload in an unsupported format (magic ${[...data.subarray(0, 4)].map((b) => b.toString(16)).join(' ')})`);
}

/** The uncompressed vmlinux ELF of a bzImage. */
export function extractVmlinux(image: Uint8Array): Uint8Array {
  const { format, data } = bzImagePayload(image);
  let out: Uint8Array;
  if (format === 'gzip') {
    const b = gunzipSync(data);
    out = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } else {
    const cmd = FORMATS.find(([f]) => f === format)![2]!;
    const r = spawnSync(cmd[0]!, cmd.slice(1), { input: data, maxBuffer: 1 << 30 });
    if (r.error) throw new GuestError(`'${cmd[0]}' is needed to decompress the ${format} kernel payload: ${r.error.message}`);
    if (r.status !== 0) throw new GuestError(`${cmd.join(' ')} failed on the kernel payload: ${r.stderr.toString().trim()}`);
    out = new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
  }
  if (out.length < 64 || out[0] !== 0x7f || out[1] !== 0x45 || out[2] !== 0x4c || out[3] !== 0x46) {
    throw new GuestError(`the ${format} payload did not decompress to an ELF`);
  }
  return out;
}
