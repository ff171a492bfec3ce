/** Makes a capture "taken behind" our emulated ASA: the input replayed with the default policy, OUT written as pcap. */
import { openCapture } from '../../src/capture/open.js';
import { createPcapWriter } from '../../src/capture/pcap-writer.js';
import { InspectionPipeline } from '../../src/pipeline/inspection-pipeline.js';
import { defaultPolicy } from '../../src/policy/load.js';

export async function makeBehind(input: string, out: string): Promise<void> {
  const src = await openCapture(input);
  if (!src.pcapHeader) throw new Error('makeBehind needs a classic pcap input');
  const w = createPcapWriter(out, src.pcapHeader);
  const p = new InspectionPipeline({ policy: defaultPolicy(), format: src.format, outputs: { packets: w, annotate: null, verdicts: null, syslog: null } });
  await src.run((r) => p.process(r), (i) => p.addInterface(i));
  p.finish();
  await w.close();
}
