/**
 * Output of a sandboxed command shown on a terminal must not act on that terminal: no OSC 52
 * clipboard writes, no title or hyperlink tricks, no line or screen erasure that hides what ran,
 * no device-control strings. Only SGR (colours and styles: `ESC [ … m`), newline, carriage
 * return, tab and backspace pass. Stateful, because an escape sequence may be split across chunks.
 */
export function createTerminalFilter(): (chunk: string) => string {
  let carry = '';
  return (chunk: string) => {
    const text = carry + chunk;
    carry = '';
    let out = '';
    let i = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x1b || c === 0x9b || c === 0x9d || c === 0x90) {
        const start = i;
        // C1 forms: 0x9b = CSI, 0x9d = OSC, 0x90 = DCS.
        const kind = c === 0x1b ? text[i + 1] : c === 0x9b ? '[' : c === 0x9d ? ']' : 'P';
        if (kind === undefined) {
          carry = text.slice(start);
          break;
        }
        i += c === 0x1b ? 2 : 1;
        if (kind === '[') {
          // CSI: parameters 0x30–0x3f, intermediates 0x20–0x2f, final 0x40–0x7e.
          let j = i;
          while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x3f) j++;
          if (j >= text.length) {
            carry = text.slice(start);
            break;
          }
          const final = text[j];
          const params = text.slice(i, j);
          if (final === 'm' && /^[0-9;:]*$/.test(params)) out += text.slice(start, j + 1);
          i = j + 1;
          continue;
        }
        if (kind === ']' || kind === 'P' || kind === '_' || kind === '^' || kind === 'X') {
          // String sequences end with BEL or ST (ESC \ or 0x9c). Dropped whole.
          let j = i;
          let end = -1;
          while (j < text.length) {
            const d = text.charCodeAt(j);
            if (d === 0x07 || d === 0x9c) {
              end = j + 1;
              break;
            }
            if (d === 0x1b && text[j + 1] === '\\') {
              end = j + 2;
              break;
            }
            j++;
          }
          if (end < 0) {
            // Unterminated: hold a bounded amount, then drop it.
            if (text.length - start < 65536) carry = text.slice(start);
            break;
          }
          i = end;
          continue;
        }
        // Any other ESC x (charset switch, keypad mode, reset…): dropped.
        continue;
      }
      if (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x08) {
        i++;
        continue;
      }
      if (c === 0x7f) {
        i++;
        continue;
      }
      out += text[i];
      i++;
    }
    return out;
  };
}

/** One-shot form of {@link createTerminalFilter}. */
export function stripTerminalControls(text: string): string {
  const f = createTerminalFilter();
  return f(text) + f('');
}
