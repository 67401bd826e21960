/**
 * How a library marks up the text it writes for people (a verdict, a status line), without
 * knowing where it goes: a terminal maps the styles to colours, anything else ignores them.
 */
export type TextStyle = 'ok' | 'warning' | 'error' | 'dim';

/** Marks `text` up in `style`; {@link plainText} leaves it as it is. */
export type Styler = (style: TextStyle, text: string) => string;

/** The styler for plain text (files, JSON fields, tests): returns the text unchanged. */
export const plainText: Styler = (_style, text) => text;

/** Rows as an aligned plain-text table: columns padded to their widest cell, two spaces apart. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
