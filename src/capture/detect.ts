/** Recognises the input by its first bytes: gzip, the four classic pcap magics, or a pcapng SHB. */
import { CaptureError } from '../errors.js';
import { hex, u32 } from './bytes.js';
import { isPcapMagic } from './pcap-reader.js';
import { BlockType } from './pcapng-reader.js';

export type DetectedFormat = 'gzip' | 'pcap' | 'pcapng';

/** Bytes needed to tell the formats apart. */
export const MAGIC_BYTES = 4;

export function isGzip(first: Buffer): boolean {
  return first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
}

export function detectFormat(first: Buffer, file: string): DetectedFormat {
  if (isGzip(first)) return 'gzip';
  if (first.length < MAGIC_BYTES) {
    throw new CaptureError(
      'E_CAPTURE_TRUNCATED',
      first.length === 0 ? 'input is empty: no capture header' : `input of ${first.length} bytes is too short for a capture header`,
      { file, offset: first.length },
    );
  }
  const magic = u32(first, 0, false);
  if (isPcapMagic(magic)) return 'pcap';
  if (magic === BlockType.SHB) return 'pcapng';
  throw new CaptureError(
    'E_CAPTURE_BAD_MAGIC',
    `not a pcap, pcapng or gzip file (first bytes ${hex(first, 0, 8)})`,
    { file, offset: 0 },
  );
}
