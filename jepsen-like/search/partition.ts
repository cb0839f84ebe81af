// P-compositionality (Horn & Kroening): a history is linearizable iff each
// independent part is. Ops are joined into one part when they share a key,
// through union-find, so a multi-key op welds its keys together.

/** Groups op indices by connected keys; each group is in ascending index order. */
export function partitionByKeys(keysOfOp: readonly (readonly string[])[]): number[][] {
  const parent: number[] = [];
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) root = parent[root] ?? root;
    // Path compression keeps later finds near O(1).
    let y = x;
    while (parent[y] !== root) {
      const up = parent[y] ?? root;
      parent[y] = root;
      y = up;
    }
    return root;
  };
  const keyIndex = new Map<string, number>();
  const keyOf = (key: string): number => {
    let k = keyIndex.get(key);
    if (k === undefined) {
      k = parent.length;
      parent.push(k);
      keyIndex.set(key, k);
    }
    return k;
  };
  for (const keys of keysOfOp) {
    const [first, ...rest] = keys;
    if (first === undefined) continue;
    const a = find(keyOf(first));
    for (const key of rest) {
      const b = find(keyOf(key));
      if (a !== b) parent[b] = a;
    }
  }
  const groups = new Map<number, number[]>();
  // Ops that touch no key constrain nothing shared; each stands alone.
  const loners: number[][] = [];
  keysOfOp.forEach((keys, i) => {
    const [first] = keys;
    if (first === undefined) {
      loners.push([i]);
      return;
    }
    const root = find(keyOf(first));
    const group = groups.get(root);
    if (group === undefined) groups.set(root, [i]);
    else group.push(i);
  });
  return [...groups.values(), ...loners];
}
