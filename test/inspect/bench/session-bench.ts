/**
 * Micro-benchmark of the ESMTP session alone (not a test; speed goes in benchmarks, never in
 * tests). Feeds (1) the client/server streams of 16a-large-8mib on their real segment boundaries
 * and (2) a synthetic ~1 GB SMTP stream (realistic MIME messages, 64 KiB segments) through a
 * session with the default map and a no-op sink, and prints MB/s.
 *
 * (3) with --bulk FILE (e.g. .bench/bulk-1-100000000.pcap from `npm run bench`): every
 * connection's segments of that capture, extracted first, then replayed through one session per
 * connection, interleaved as captured (MSS-sized segments, 200 sessions in flight).
 *
 *   npx vite-node test/inspect/bench/session-bench.ts [--gb 1] [--reps 20] [--bulk FILE]
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { createEsmtpSession } from '../../../src/inspect/esmtp/session.js';
import { EsmtpCounters } from '../../../src/inspect/counters.js';
import { defaultEngineOptions } from '../../../src/inspect/options.js';
import { GENERATED_DIR } from '../../helpers/shared.js';
import { captureSegments, CTX, defaultMap, type Segment } from '../helpers.js';
import { openCapture } from '../../../src/capture/open.js';
import { decodePacket } from '../../../src/decode/decode.js';
import { DecodedPacket } from '../../../src/decode/packet.js';
import { FlowTable, PacketFlowResult } from '../../../src/flow/flow-table.js';
import type { InspectorSession } from '../../../src/inspect/types.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const GB = arg('--gb', 1);
const REPS = arg('--reps', 20);

let edits = 0;
let verdicts = 0;
const sink = { edit: () => void edits++, verdict: () => void verdicts++ };

function feed(segs: readonly Segment[]): number {
  const s = createEsmtpSession(defaultMap(), CTX, defaultEngineOptions(), sink, new EsmtpCounters());
  const off = [0, 0];
  let bytes = 0;
  for (const x of segs) {
    if (x.gap !== undefined) {
      s.gap(x.dir, off[x.dir]!, x.gap, x.gapReason);
      off[x.dir]! += x.gap;
      continue;
    }
    s.data(x.dir, x.bytes, off[x.dir]!, 0, 0);
    off[x.dir]! += x.bytes.length;
    bytes += x.bytes.length;
  }
  s.end();
  return bytes;
}

function report(name: string, bytes: number, ns: bigint): void {
  const sec = Number(ns) / 1e9;
  console.log(`${name.padEnd(44)} ${(bytes / 1e6).toFixed(0).padStart(6)} MB  ${sec.toFixed(3).padStart(7)} s  ${(bytes / 1e6 / sec).toFixed(0).padStart(6)} MB/s`);
}

/** A realistic message: headers, a text part, a base64 attachment (76-char lines), dot-stuffed lines. */
function message(size: number): Buffer {
  const lines: string[] = [
    'Received: from client.example.test (client.example.test [198.51.100.7]) by mx.example.test (Postfix) with ESMTP id 4XyZ1 for <bob@example.test>; Sat, 28 Nov 2026 08:00:00 +0000 (UTC)',
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=sel; h=from:to:subject:date;',
    '\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=' + 'A'.repeat(300),
    'From: Alice <alice@example.test>',
    'To: Bob <bob@example.test>',
    'Subject: quarterly report',
    'Date: Sat, 28 Nov 2026 08:00:00 +0000',
    'Message-ID: <20261128080000.1@example.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1_bench"',
    '',
    'This is a multi-part message in MIME format.',
    '--b1_bench',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
  ];
  for (let i = 0; i < 40; i++) lines.push(i % 7 === 0 ? '..a line that starts with a dot (stuffed)' : `Line ${i} of the text part, with ordinary prose of a typical length for mail.`);
  lines.push('--b1_bench', 'Content-Type: application/pdf; name="report.pdf"', 'Content-Disposition: attachment; filename="report.pdf"', 'Content-Transfer-Encoding: base64', '');
  let text = lines.join('\r\n') + '\r\n';
  const b64 = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3'.slice(0, 76) + '\r\n';
  const reps = Math.max(1, Math.floor((size - text.length - 20) / b64.length));
  text += b64.repeat(reps) + '--b1_bench--\r\n';
  return Buffer.from(text, 'latin1');
}

function synthetic(totalBytes: number): { segs: Segment[]; bytes: number; body: number } {
  const msg = message(4 * 1024 * 1024);
  const SEG = 65483;
  const body: Buffer[] = [];
  for (let i = 0; i < msg.length; i += SEG) body.push(msg.subarray(i, Math.min(msg.length, i + SEG)));
  const C = (t: string): Segment => ({ dir: 0, bytes: Buffer.from(t, 'latin1') });
  const S = (t: string): Segment => ({ dir: 1, bytes: Buffer.from(t, 'latin1') });
  const segs: Segment[] = [
    S('220 mx.example.test ESMTP Postfix\r\n'),
    C('EHLO client.example.test\r\n'),
    S('250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n'),
  ];
  const txn = [C('MAIL FROM:<alice@example.test> SIZE=4194304\r\n'), S('250 2.1.0 Ok\r\n'), C('RCPT TO:<bob@example.test>\r\n'), S('250 2.1.5 Ok\r\n'), C('DATA\r\n'), S('354 End data with <CR><LF>.<CR><LF>\r\n')];
  const end = [C('.\r\n'), S('250 2.0.0 Ok: queued as 4XyZ1\r\n')];
  let bytes = 0;
  let bodyBytes = 0;
  while (bytes < totalBytes) {
    for (const x of txn) segs.push(x), (bytes += x.bytes.length);
    for (const b of body) segs.push({ dir: 0, bytes: b }), (bytes += b.length), (bodyBytes += b.length);
    for (const x of end) segs.push(x), (bytes += x.bytes.length);
  }
  segs.push(C('QUIT\r\n'), S('221 2.0.0 Bye\r\n'));
  return { segs, bytes, body: bodyBytes };
}

interface ConnSeg {
  conn: number;
  dir: 0 | 1;
  offset: number;
  bytes: Buffer | null;
  gap: number;
}

async function bulk(file: string): Promise<void> {
  const src = await openCapture(file);
  const events: ConnSeg[] = [];
  const table = new FlowTable<unknown>({
    onOpen: () => {},
    onData: (c, dir, data, offset) => void events.push({ conn: c.id, dir, offset, bytes: Buffer.from(data), gap: 0 }),
    onGap: (c, dir, offset, length) => void events.push({ conn: c.id, dir, offset, bytes: null, gap: length }),
    onClose: () => {},
  });
  const pkt = new DecodedPacket();
  const r = new PacketFlowResult<unknown>();
  let t = 0;
  await src.run((rec) => {
    decodePacket(rec.linkType, rec.data, pkt);
    t = rec.tsSec;
    table.process(pkt, rec.packetNumber, rec.tsSec, rec.tsNsec, r);
  });
  table.finish(t, 0);
  for (let rep = 0; rep < arg('--bulk-reps', 2); rep++) {
    const sessions = new Map<number, InspectorSession>();
    const counters = new EsmtpCounters();
    const map = defaultMap();
    const o = defaultEngineOptions();
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    for (const e of events) {
      let s = sessions.get(e.conn);
      if (!s) sessions.set(e.conn, (s = createEsmtpSession(map, CTX, o, sink, counters)));
      if (e.bytes === null) s.gap(e.dir, e.offset, e.gap);
      else {
        s.data(e.dir, e.bytes, e.offset, 0, 0);
        bytes += e.bytes.length;
      }
    }
    for (const s of sessions.values()) s.end();
    report(`bulk ${path.basename(file)} (${sessions.size} sessions)`, bytes, process.hrtime.bigint() - t0);
  }
}

async function main(): Promise<void> {
  const bi = args.indexOf('--bulk');
  if (bi >= 0) await bulk(args[bi + 1]!);
  const f16a = path.join(GENERATED_DIR, '16a-large-8mib.pcap');
  if (existsSync(f16a)) {
    const segs = await captureSegments(f16a);
    for (let i = 0; i < 3; i++) feed(segs); // warm-up
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < REPS; i++) bytes += feed(segs);
    report(`16a-large-8mib streams x${REPS}`, bytes, process.hrtime.bigint() - t0);
  } else console.log(`16a-large-8mib.pcap not found under ${GENERATED_DIR}: skipped`);
  const syn = synthetic(GB * 1e9);
  feed(synthetic(50e6).segs); // warm-up
  const t0 = process.hrtime.bigint();
  const bytes = feed(syn.segs);
  report(`synthetic SMTP (${(syn.body / 1e6).toFixed(0)} MB of DATA bodies)`, bytes, process.hrtime.bigint() - t0);
  console.log(`(edits ${edits}, verdicts ${verdicts}; rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB)`);
}

await main();
