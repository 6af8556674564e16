// Line diff for the side-by-side version view: the longest common subsequence of
// lines, aligned into rows. Documents are pretty-printed JSON, a few hundred lines.

export interface DiffRow {
  left: string | null;
  right: string | null;
  kind: "same" | "del" | "add" | "change";
}

/** stableJSON pretty-prints with sorted keys, so that key order never shows as a change. */
export function stableJSON(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object")
      return Object.fromEntries(
        Object.keys(x as object)
          .sort()
          .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
      );
    return x;
  };
  return JSON.stringify(sort(v), null, 2);
}

/** diffLines aligns a and b line by line. */
export function diffLines(a: string[], b: string[]): DiffRow[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i:] and b[j:]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const rows: DiffRow[] = [];
  let i = 0;
  let j = 0;
  const dels: string[] = [];
  const adds: string[] = [];
  const flush = () => {
    // Pair deletions with additions as changed lines, the rest stay one-sided.
    const k = Math.max(dels.length, adds.length);
    for (let x = 0; x < k; x++) {
      const l = x < dels.length ? dels[x] : null;
      const r = x < adds.length ? adds[x] : null;
      rows.push({ left: l, right: r, kind: l !== null && r !== null ? "change" : l !== null ? "del" : "add" });
    }
    dels.length = 0;
    adds.length = 0;
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      flush();
      rows.push({ left: a[i], right: b[j], kind: "same" });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      adds.push(b[j++]);
    } else {
      dels.push(a[i++]);
    }
  }
  flush();
  return rows;
}
