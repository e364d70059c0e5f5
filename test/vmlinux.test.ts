// Extracting the uncompressed kernel from a bzImage (src/guest/vmlinux.ts): synthetic bzImages around gzip and xz
// payloads, and the errors for images that are not what they claim.
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bzImagePayload, extractVmlinux } from '../src/guest/vmlinux.ts';

const ELF = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, ...Array.from({ length: 200 }, (_, i) => i & 0xff)]);

/** A bzImage shell: one setup sector after the boot sector, the payload 16 bytes into the protected-mode code. */
function bzImage(stream: Uint8Array, uncompressedSize: number): Uint8Array {
  const payload = new Uint8Array(stream.length + 4);
  payload.set(stream);
  new DataView(payload.buffer).setUint32(stream.length, uncompressedSize, true); // the build's size_append
  const img = new Uint8Array(1024 + 16 + payload.length + 32);
  const dv = new DataView(img.buffer);
  img[0x1f1] = 1;
  dv.setUint32(0x202, 0x53726448, true);
  dv.setUint16(0x206, 0x020f, true);
  dv.setUint32(0x248, 16, true);
  dv.setUint32(0x24c, payload.length, true);
  img.set(payload, 1024 + 16);
  return img;
}

describe('vmlinux from a bzImage', () => {
  it('finds and decompresses a gzip payload', () => {
    const img = bzImage(gzipSync(ELF), ELF.length);
    expect(bzImagePayload(img).format).toBe('gzip');
    expect(extractVmlinux(img)).toEqual(ELF);
  });

  it.skipIf(spawnSync('xz', ['--version']).status !== 0)('decompresses an xz payload with the host xz (as Debian builds it)', () => {
    const xz = spawnSync('xz', ['-c', '--check=crc32'], { input: ELF }).stdout;
    const img = bzImage(new Uint8Array(xz), ELF.length);
    expect(bzImagePayload(img).format).toBe('xz');
    expect(extractVmlinux(img)).toEqual(ELF);
  });

  it('rejects what is not a bzImage, payloads past the end, unknown formats and payloads that are not ELF', () => {
    expect(() => extractVmlinux(new Uint8Array(4096))).toThrow(/not a Linux bzImage/);
    const long = bzImage(gzipSync(ELF), ELF.length);
    new DataView(long.buffer).setUint32(0x24c, 1 << 20, true);
    expect(() => extractVmlinux(long)).toThrow(/past the end/);
    expect(() => extractVmlinux(bzImage(new Uint8Array([1, 2, 3, 4, 5, 6]), 6))).toThrow(/unsupported format \(magic 1 2 3 4\)/);
    expect(() => extractVmlinux(bzImage(gzipSync(new Uint8Array(100)), 100))).toThrow(/did not decompress to an ELF/);
  });
});
