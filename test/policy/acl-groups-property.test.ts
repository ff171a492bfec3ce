/**
 * Property: compiling groups once (flat sets, DAG nodes with a per-connection memo) decides every
 * connection as the plain definition does: the first access-list entry whose source, destination
 * and port contain the connection decides, a group containing what its entries and subgroups
 * contain. Random group DAGs with shared subgroups, random `no` edits, random `line N` inserts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';

const WRAP = 'class-map T\n match access-list T\npolicy-map TP\n class T\n  inspect esmtp\nno service-policy global_policy global\nservice-policy TP global\n';

/** Addresses 10.0.0.0-10.0.0.15; an entry is a host or a /30. */
type Entry = { host: number } | { net4: number };
const contains = (e: Entry, a: number): boolean => ('host' in e ? e.host === a : a >> 2 === e.net4);
const entryText = (e: Entry): string => ('host' in e ? `host 10.0.0.${e.host}` : `10.0.0.${e.net4 * 4} 255.255.255.252`);

interface Group {
  entries: Entry[];
  subs: number[]; // indexes of earlier groups
  removed: Entry[]; // `no network-object` lines (a copy of an entry, or one it does not have)
}
interface AceSpec {
  permit: boolean;
  src: { group: number } | { any: true };
  dst: number; // a host
  port: number;
  line: number | null; // `line N`
}

const entry = fc.oneof(fc.record({ host: fc.integer({ min: 0, max: 15 }) }), fc.record({ net4: fc.integer({ min: 0, max: 3 }) }));

const model = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({
    groups: fc.tuple(
      ...Array.from({ length: n }, (_, k) =>
        fc.record({
          entries: fc.array(fc.oneof(entry, fc.constant({ host: 0 })), { maxLength: 3 }),
          subs: k === 0 ? fc.constant([] as number[]) : fc.uniqueArray(fc.integer({ min: 0, max: k - 1 }), { maxLength: 3 }),
          removed: fc.array(fc.oneof(entry, fc.constant({ host: 0 })), { maxLength: 1 }),
        }),
      ),
    ),
    aces: fc.array(
      fc.record({
        permit: fc.boolean(),
        src: fc.oneof(fc.record({ group: fc.integer({ min: 0, max: n - 1 }) }), fc.constant({ any: true as const })),
        dst: fc.integer({ min: 0, max: 3 }),
        port: fc.constantFrom(25, 587),
        line: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  }),
);

function render(groups: Group[], aces: AceSpec[]): string {
  const out: string[] = [];
  groups.forEach((g, k) => {
    out.push(`object-group network G${k}`);
    for (const e of g.entries) out.push(` network-object ${entryText(e)}`);
    for (const s of g.subs) out.push(` group-object G${s}`);
    for (const e of g.removed) out.push(` no network-object ${entryText(e)}`);
  });
  for (const a of aces)
    out.push(
      `access-list T${a.line !== null ? ` line ${a.line}` : ''} extended ${a.permit ? 'permit' : 'deny'} tcp ${'group' in a.src ? `object-group G${a.src.group}` : 'any'} host 192.0.2.${a.dst} eq ${a.port}`,
    );
  return out.join('\n') + '\n' + WRAP;
}

/** The plain definition, recursive and unmemoised (groups are small here). */
function reference(groups: Group[], aces: AceSpec[]): (client: number, dst: number, port: number) => boolean {
  const members = groups.map((g) => {
    const list = [...g.entries.filter((e, i) => g.entries.findIndex((x) => entryText(x) === entryText(e)) === i)];
    for (const r of g.removed) {
      const i = list.findIndex((x) => entryText(x) === entryText(r));
      if (i >= 0) list.splice(i, 1);
    }
    return list;
  });
  const inGroup = (k: number, a: number): boolean => members[k]?.some((e) => contains(e, a)) === true || (groups[k]?.subs ?? []).some((s) => inGroup(s, a));
  // the list as the ASA builds it: `line N` inserts, a repeated entry is kept once (the first)
  const list: AceSpec[] = [];
  const key = (a: AceSpec) => JSON.stringify([a.permit, a.src, a.dst, a.port]);
  for (const a of aces) {
    if (list.some((x) => key(x) === key(a))) continue;
    if (a.line !== null && a.line <= list.length) list.splice(a.line - 1, 0, a);
    else list.push(a);
  }
  return (client, dst, port) => {
    for (const a of list) {
      const src = 'group' in a.src ? inGroup(a.src.group, client) : true;
      if (src && a.dst === dst && a.port === port) return a.permit;
    }
    return false;
  };
}

describe('flattened groups decide as the plain definition', () => {
  it('for random group DAGs, no-edits and line inserts', () => {
    fc.assert(
      fc.property(model, ({ groups, aces }) => {
        const p = compilePolicyText(render(groups, aces), 'prop.cfg');
        const ref = reference(groups, aces);
        for (let client = 0; client < 16; client++)
          for (let dst = 0; dst < 4; dst++)
            for (const port of [25, 587]) {
              const got = p.classify({ ipVersion: 4, clientIp: `10.0.0.${client}`, clientPort: 40000, serverIp: `192.0.2.${dst}`, serverPort: port }).esmtp !== null;
              expect(got).toBe(ref(client, dst, port));
            }
      }),
      { numRuns: 300 },
    );
  });
});
