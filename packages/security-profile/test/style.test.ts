import { expect, it } from 'vitest';
import { plainText, type Styler, textTable } from '../src/index.js';

it('plainText leaves the text unchanged in every style', () => {
  for (const style of ['ok', 'warning', 'error', 'dim'] as const) expect(plainText(style, 'x y')).toBe('x y');
});

it('a Styler marks text up by style (as a terminal renderer does)', () => {
  const tags: Styler = (style, text) => `<${style}>${text}</${style}>`;
  expect(tags('error', 'TAMPERED')).toBe('<error>TAMPERED</error>');
});

it('textTable pads each column to its widest cell, two spaces apart, without trailing spaces', () => {
  expect(
    textTable([
      ['RUNG', 'AVAILABLE'],
      ['full *', 'yes'],
      ['none', ''],
    ]),
  ).toBe('RUNG    AVAILABLE\nfull *  yes\nnone');
  expect(textTable([])).toBe('');
});
