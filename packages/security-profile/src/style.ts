/**
 * How a library marks up the text it writes for people (a verdict, a status line), without
 * knowing where it goes: a terminal maps the styles to colours, anything else ignores them.
 */
export type TextStyle = 'ok' | 'warning' | 'error' | 'dim';

/** Marks `text` up in `style`; {@link plainText} leaves it as it is. */
export type Styler = (style: TextStyle, text: string) => string;

/** The styler for plain text (files, JSON fields, tests): returns the text unchanged. */
export const plainText: Styler = (_style, text) => text;
