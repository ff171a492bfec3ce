/** Peak resident set size of this process (VmHWM), in bytes; null where /proc is not available. */
import fs from 'node:fs';

export function peakRssBytes(): number | null {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
