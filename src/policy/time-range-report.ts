/**
 * The clock and the time-ranges as data, for `policy check --json`: what an admin needs to see
 * whether a scheduled entry was read as meant (the window in the ASA's local time, the zone it is
 * read in, the entries that depend on it) without parsing the printed configuration.
 */
import { zoneOffsetMinutes, type DatePoint } from './clock.js';
import type { ParsedConfig } from './model.js';
import { clockLines, formatPeriodic } from './time-range.js';
import type { ClockReport, TimeRangeReport } from './types.js';

const two = (n: number): string => String(n).padStart(2, '0');

/** ISO 8601 local date and time to the minute, no offset (the window is local to the ASA clock). */
function isoLocal(p: DatePoint): string {
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(Math.floor(p.minute / 60))}:${two(p.minute % 60)}`;
}

export function clockReport(cfg: ParsedConfig): ClockReport {
  const off = zoneOffsetMinutes(cfg.clock.timezone);
  const abs = Math.abs(off);
  const s = cfg.clock.summer;
  // the summer-time line exactly as policy check prints it back
  const summerText = s ? (clockLines({ timezone: null, summer: s })[0] ?? '') : '';
  return {
    timezone: cfg.clock.timezone?.name ?? 'UTC',
    utcOffset: `${off < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`,
    summerTime: s ? { zone: s.zone, kind: s.kind, offsetMinutes: s.offset, text: summerText } : null,
  };
}

export function timeRangeReports(cfg: ParsedConfig): TimeRangeReport[] {
  const clock = clockReport(cfg);
  const zone = clock.summerTime ? `${clock.timezone}/${clock.summerTime.zone}` : clock.timezone;
  const usedBy = new Map<string, TimeRangeReport['usedBy']>();
  for (const acl of cfg.accessLists.values())
    acl.aces.forEach((ace, k) => {
      if (!ace.timeRange) return;
      let list = usedBy.get(ace.timeRange.name);
      if (!list) usedBy.set(ace.timeRange.name, (list = []));
      list.push({ accessList: acl.name, line: ace.line, position: k + 1, entry: ace.text });
    });
  return [...cfg.timeRanges.values()].map((def) => ({
    name: def.name,
    line: def.pos.line,
    absolute: def.absolute ? { start: def.absolute.start ? isoLocal(def.absolute.start) : null, end: def.absolute.end ? isoLocal(def.absolute.end) : null, zone } : null,
    periodic: def.periodic.map(formatPeriodic),
    usedBy: usedBy.get(def.name) ?? [],
  }));
}
