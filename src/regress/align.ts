/**
 * Aligns two lists of lines by a longest common subsequence, after trimming their common head and
 * tail (the regress diffs: verdict records, annotation comments). Returns the lines only in `a`
 * (`removed`, an index into a) and only in `b` (`added`, an index into b) in the order the
 * alignment meets them, or null when the middle left after trimming is too large for the table
 * (`maxCells`): the caller then falls back to a cheaper rule.
 */
export interface AlignStep {
  kind: 'removed' | 'added';
  index: number;
}

/** The differing middles of `a` and `b`: a[lo, ea) and b[lo, eb), after their common head and tail. */
export function differingMiddle(a: readonly string[], b: readonly string[]): { lo: number; ea: number; eb: number } {
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let ea = a.length;
  let eb = b.length;
  while (ea > lo && eb > lo && a[ea - 1] === b[eb - 1]) {
    ea--;
    eb--;
  }
  return { lo, ea, eb };
}

export function alignByLcs(a: readonly string[], b: readonly string[], maxCells: number): AlignStep[] | null {
  const { lo, ea, eb } = differingMiddle(a, b);
  const n = ea - lo;
  const m = eb - lo;
  if (n * m > maxCells) return null;
  const w = m + 1;
  const L = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i * w + j] = a[lo + i] === b[lo + j] ? (L[(i + 1) * w + j + 1] ?? 0) + 1 : Math.max(L[(i + 1) * w + j] ?? 0, L[i * w + j + 1] ?? 0);
    }
  }
  const steps: AlignStep[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[lo + i] === b[lo + j]) {
      i++;
      j++;
    } else if ((L[(i + 1) * w + j] ?? 0) >= (L[i * w + j + 1] ?? 0)) steps.push({ kind: 'removed', index: lo + i++ });
    else steps.push({ kind: 'added', index: lo + j++ });
  }
  while (i < n) steps.push({ kind: 'removed', index: lo + i++ });
  while (j < m) steps.push({ kind: 'added', index: lo + j++ });
  return steps;
}
