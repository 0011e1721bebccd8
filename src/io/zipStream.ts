// A stored (uncompressed) .zip written entry by entry as the bytes come, for exports of large SAEs:
// nothing of an entry is kept but its running CRC-32 and length. Each local header sets general-purpose
// bit 3, so the CRC and sizes follow the entry's data in a data descriptor; the central directory (which
// readers such as fflate's unzipSync, Python's zipfile and SAELens' loaders use) comes at the end.
// Bit 11: names are UTF-8. No ZIP64: an archive past 4 GiB is refused with a message naming the limit.
// Timestamps are fixed (1980-01-01 00:00), so the same folder always gives the same bytes.
import { crc32 } from '../data/crc32';
import type { ByteSink } from './checkpoint';

const LIMIT = 0xffffffff;
const FLAGS = 0x0808;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

interface Entry {
  name: Uint8Array;
  offset: number;
  crc: number;
  size: number;
}

export class ZipStreamWriter {
  private offset = 0;
  private readonly entries: Entry[] = [];

  constructor(private readonly sink: ByteSink) {}

  private async put(b: Uint8Array) {
    if (this.offset + b.length > LIMIT)
      throw new Error(`the archive would pass 4 GiB (zip without ZIP64); export the folder's files instead`);
    await this.sink.write(b);
    this.offset += b.length;
  }

  /** One entry, its data written by `fill` part after part. */
  async add(path: string, fill: (sink: ByteSink) => Promise<unknown>): Promise<void> {
    const name = new TextEncoder().encode(path);
    const head = new Uint8Array(30 + name.length);
    const h = new DataView(head.buffer);
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, 20, true); // version needed: 2.0
    h.setUint16(6, FLAGS, true);
    h.setUint16(8, 0, true); // stored
    h.setUint16(10, 0, true);
    h.setUint16(12, DOS_DATE, true);
    // CRC and sizes 0 here: they follow in the data descriptor (bit 3).
    h.setUint16(26, name.length, true);
    head.set(name, 30);
    const entry: Entry = { name, offset: this.offset, crc: 0, size: 0 };
    await this.put(head);
    await fill({
      write: async (b) => {
        entry.crc = crc32(b, entry.crc);
        entry.size += b.length;
        await this.put(b);
      },
    });
    const dd = new Uint8Array(16);
    const d = new DataView(dd.buffer);
    d.setUint32(0, 0x08074b50, true);
    d.setUint32(4, entry.crc, true);
    d.setUint32(8, entry.size, true);
    d.setUint32(12, entry.size, true);
    await this.put(dd);
    this.entries.push(entry);
  }

  /** The central directory and its end record; resolves with the archive's length. */
  async finish(): Promise<number> {
    const start = this.offset;
    for (const e of this.entries) {
      const c = new Uint8Array(46 + e.name.length);
      const v = new DataView(c.buffer);
      v.setUint32(0, 0x02014b50, true);
      v.setUint16(4, 20, true); // made by: 2.0, MS-DOS attributes
      v.setUint16(6, 20, true);
      v.setUint16(8, FLAGS, true);
      v.setUint16(10, 0, true);
      v.setUint16(12, 0, true);
      v.setUint16(14, DOS_DATE, true);
      v.setUint32(16, e.crc, true);
      v.setUint32(20, e.size, true);
      v.setUint32(24, e.size, true);
      v.setUint16(28, e.name.length, true);
      v.setUint32(42, e.offset, true);
      c.set(e.name, 46);
      await this.put(c);
    }
    const end = new Uint8Array(22);
    const v = new DataView(end.buffer);
    v.setUint32(0, 0x06054b50, true);
    v.setUint16(8, this.entries.length, true);
    v.setUint16(10, this.entries.length, true);
    v.setUint32(12, this.offset - start, true);
    v.setUint32(16, start, true);
    await this.put(end);
    return this.offset;
  }
}
