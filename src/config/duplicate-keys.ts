// config/: finds a key written twice in one JSON object, which JSON.parse lets the last one win silently.

/**
 * The dotted path of the first key that appears twice in the same object of
 * `text` (already known to be valid JSON), or null. One pass, no recursion: a
 * deeply nested file costs a stack of sets, not a stack of calls.
 */
export function firstDuplicateKey(text: string): string | null {
  /** Per open container: the keys seen so far (null for an array) and the key that holds it. */
  const stack: Array<{ keys: Set<string> | null; name: string }> = [];
  let pendingName = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : null, name: pendingName });
      pendingName = '';
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const literal = text.slice(i, end + 1);
      i = end;
      const top = stack[stack.length - 1];
      if (top?.keys == null) continue;
      let next = end + 1;
      while (next < text.length && /\s/.test(text[next] as string)) next += 1;
      if (text[next] !== ':') continue; // a value, not a key
      const key = JSON.parse(literal) as string;
      // The path is built only for the answer: building it per key would be quadratic in the nesting.
      if (top.keys.has(key)) return [...stack.slice(1).map((s) => s.name), key].join('.');
      top.keys.add(key);
      pendingName = key;
    }
  }
  return null;
}
