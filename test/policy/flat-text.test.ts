/**
 * Configuration text without any indentation: Cisco's PDF guides lose it when copied (the
 * `_default_esmtp_map` of the "Defaults for ESMTP Inspection" page arrives as flat lines with
 * trailing blanks), and some tutorials print running configs flat with a blank line between lines.
 * Modes still work (a line is tried in the current mode first); but a misspelt sub-command at
 * column 1 cannot be told from an unknown global command by its layout. Before, it was ignored
 * silently when no policy line followed it, leaving a match without its action.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicyText, defaultPolicy } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';

const flow: FlowTuple = { ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '10.0.0.25', serverPort: 25, ingressInterface: 'outside' };

/** The default map as a copy from the PDF guide gives it: no indentation, trailing blanks. */
const PDF_COPY = `policy-map type inspect esmtp _default_esmtp_map
description Default ESMTP policy-map
parameters
mask-banner
no mail-relay
no special-character
no allow-tls
match cmd line length gt 512 
drop-connection log
match cmd RCPT count gt 100 
drop-connection log
match body line length gt 998 
log
match header line length gt 998 
drop-connection log
match sender-address length gt 320 
drop-connection log
match MIME filename length gt 255 
drop-connection log
match ehlo-reply-parameter others 
mask
`;

describe('flat text', () => {
  it('the PDF copy of the default map is the default map, without warnings', () => {
    const p = compilePolicyText(PDF_COPY, 'pdf.txt');
    const m = p.classify(flow).esmtp;
    const d = defaultPolicy().classify(flow).esmtp;
    expect(m?.matches.map((x) => [x.text, x.actions])).toEqual(d?.matches.map((x) => [x.text, x.actions]));
    expect(p.warnings.filter((w) => w.level === 'warning')).toEqual([]);
  });

  it('a misspelt action at column 1 in flat text is a warning naming the match it ended', () => {
    const p = compilePolicyText('policy-map type inspect esmtp M\nmatch cmd RCPT count gt 10\ndrop-conection log\n', 'x.txt');
    const w = p.warnings.filter((x) => x.level === 'warning');
    expect(w).toHaveLength(1);
    expect(w[0]?.line).toBe(3);
    expect(w[0]?.message).toBe('"drop-conection log" is not an ASA command we know; this text has no indentation, so it may be a misspelt line of "match cmd RCPT count gt 10", which the ASA would refuse: it was ignored, and it ended "match cmd RCPT count gt 10"');
  });

  it('with policy lines after it, one warning (the lost lines), not two', () => {
    const p = compilePolicyText('policy-map type inspect esmtp M\nmatch cmd RCPT count gt 10\ndrop-conection log\nparameters\nallow-tls\n', 'x.txt');
    const w = p.warnings.filter((x) => x.level === 'warning');
    expect(w.map((x) => x.message)).toEqual([expect.stringMatching(/^"drop-conection log" is not an ASA command we know; it ended "match cmd RCPT count gt 10", and 2 policy line\(s\) after it were ignored/)]);
  });

  it('in indented text the same column-1 word is an unmodelled global command, as before (no warning)', () => {
    const p = compilePolicyText('policy-map type inspect esmtp M\n match cmd RCPT count gt 10\nfrobnicate-feature on\n', 'x.txt');
    expect(p.warnings.filter((x) => x.level === 'warning')).toEqual([]);
  });
});
