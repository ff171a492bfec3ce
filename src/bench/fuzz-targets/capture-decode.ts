/**
 * Fuzz target "capture+decode": openCapture over the bytes (through a temporary file, the way a
 * user hands us a capture) and decodePacket over every record. Defined outcomes: success or a
 * CaptureError (stable code, file, byte offset).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureError } from '../../errors.js';
import { openCapture } from '../../capture/open.js';
import { decodePacket } from '../../decode/decode.js';
import { DecodedPacket, PacketKind } from '../../decode/packet.js';
import { tcpChecksumOk } from '../../decode/checksum.js';
import { registerFuzzTarget } from '../fuzz-registry.js';
import { defaultCaptureSeeds } from '../corpus.js';

let tmpDir: string | null = null;
let counter = 0;

export async function runCaptureDecode(input: Buffer): Promise<void> {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-inspect-fuzz-'));
  const file = path.join(tmpDir, `input-${process.pid}-${counter++ % 4}.pcap`);
  fs.writeFileSync(file, input);
  try {
    const source = await openCapture(file);
    const pkt = new DecodedPacket();
    await source.run((rec) => {
      decodePacket(rec.linkType, rec.data, pkt);
      if (pkt.kind === PacketKind.TCP) tcpChecksumOk(pkt);
    });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

registerFuzzTarget({
  name: 'capture+decode',
  description: 'pcap/pcapng/gzip reader + packet decoder + TCP checksum verification',
  seeds: defaultCaptureSeeds,
  run: runCaptureDecode,
  isExpectedError: (err) => err instanceof CaptureError,
});
