/**
 * Reads the `command` input: a JSON array of strings (`["npx", "prisma", "migrate", "deploy"]`),
 * or a shell-like string split into words the way a shell would split it, with no expansion:
 * whitespace separates words, `'…'` keeps everything literally, `"…"` keeps everything but `\"`
 * and `\\`, and a backslash outside quotes escapes the next character. Returns the words, or
 * a sentence saying what is wrong.
 */
export function parseCommand(text: string): { argv: string[] } | { error: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      return { error: `a JSON array of strings; it does not parse (${(error as Error).message})` };
    }
    if (!Array.isArray(parsed) || !parsed.every((w) => typeof w === 'string'))
      return { error: 'a JSON array of strings' };
    if (!parsed.length) return { error: 'a JSON array of at least one string' };
    return { argv: parsed as string[] };
  }
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < trimmed.length; i++) {
    const ch = trimmed[i];
    if (ch === "'") {
      const end = trimmed.indexOf("'", i + 1);
      if (end < 0) return { error: "a command whose quotes are closed (a `'` is not)" };
      word += trimmed.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < trimmed.length && trimmed[j] !== '"'; j++) {
        if (trimmed[j] === '\\' && (trimmed[j + 1] === '"' || trimmed[j + 1] === '\\')) j++;
        word += trimmed[j];
      }
      if (j >= trimmed.length) return { error: 'a command whose quotes are closed (a `"` is not)' };
      inWord = true;
      i = j;
    } else if (ch === '\\') {
      if (i + 1 < trimmed.length && trimmed[i + 1] !== '\n') word += trimmed[i + 1];
      inWord = true;
      i++;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  if (!words.length) return { error: 'a command of at least one word' };
  return { argv: words };
}
