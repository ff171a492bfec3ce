/**
 * Warnings for a text merged over the factory default that re-declares a default object the way a
 * printout does (native-notes "layering"): a merge then keeps both the printed and the default
 * line, which the admin almost never meant. Each warning names the line and suggests
 * `--policy-mode snapshot`.
 */
import { esmtpMatchKey as matchKey, type ParsedConfig, type ParseWarning } from './model.js';

/** Inspect lines of one class (without esmtp) from which a list counts as printed, not typed. */
const PRINTED_LIST = 2;

export function printedOverDefault(base: ParsedConfig, merged: ParsedConfig): ParseWarning[] {
  const out: ParseWarning[] = [];
  const hint = 'if this text is a printout of show running-config, use --policy-mode snapshot';
  for (const [name, baseMap] of base.esmtpMaps) {
    const map = merged.esmtpMaps.get(name);
    if (!map) continue;
    const factory = new Map(baseMap.matches.map((m) => [matchKey(m), m]));
    for (const m of map.matches) {
      if (factory.has(matchKey(m)) || m.gt === null) continue;
      const twin = map.matches.find((x) => x !== m && x.kind === m.kind && x.not === m.not && factory.has(matchKey(x)));
      if (!twin) continue;
      out.push({
        line: m.pos.line,
        level: 'warning',
        message:
          `"${m.text}" was added to ${name} next to the factory "${twin.text}": merged as commands, both apply (the lower limit still decides); ` +
          `${hint}; typed on a device, "no ${twin.text}" first would replace it`,
      });
    }
  }
  for (const [pmName, basePm] of base.policyMaps) {
    const pm = merged.policyMaps.get(pmName);
    if (!pm) continue;
    for (const baseCls of basePm.classes) {
      const cls = pm.classes.find((k) => k.className === baseCls.className);
      const kept = cls?.inspects.find((i) => i.protocol === 'esmtp' && i.inherited);
      if (!cls || !kept) continue;
      const listed = cls.inspects.filter((i) => !i.inherited && i.protocol !== 'esmtp');
      if (listed.length < PRINTED_LIST) continue;
      out.push({
        line: (listed[0] as { line: number }).line,
        level: 'warning',
        message:
          `class ${cls.className} of policy-map ${pmName} lists ${listed.length} inspect lines without "inspect esmtp", but merged over the factory default it still inspects esmtp; ` +
          `${hint}; to stop ESMTP inspection with commands, add "no inspect esmtp"`,
      });
    }
  }
  return out;
}
