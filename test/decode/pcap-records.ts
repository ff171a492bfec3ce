/**
 * Test-only: the records of a capture for decode tests, read with the project's reader
 * (openCapture), copied because the reader's views are valid only during its callback.
 */
import { openCapture } from '../../src/capture/open.js';

export interface TestRecord {
  number: number;
  linkType: number;
  data: Buffer;
  originalLength: number;
}

/** Every record of a capture. */
export async function readRecords(file: string): Promise<TestRecord[]> {
  const src = await openCapture(file);
  const out: TestRecord[] = [];
  await src.run((r) => {
    out.push({ number: r.packetNumber, linkType: r.linkType, data: Buffer.from(r.data), originalLength: r.originalLength });
  });
  return out;
}
