import { describe, expect, it } from 'vitest';
import { createTerminalFilter, stripTerminalControls } from '../src/index.js';

describe('stripTerminalControls', () => {
  it('drops OSC 52 clipboard writes (BEL and ST terminated), titles and hyperlinks', () => {
    expect(stripTerminalControls('a\x1b]52;c;ZWNobyBwd25lZA==\x07b')).toBe('ab');
    expect(stripTerminalControls('a\x1b]52;c;ZWNobw==\x1b\\b')).toBe('ab');
    expect(stripTerminalControls('\x1b]0;fake title\x07ok')).toBe('ok');
    expect(stripTerminalControls('\x9d52;c;eA==\x9cok')).toBe('ok');
  });
  it('drops line and screen erasure and cursor movement that could hide what ran', () => {
    expect(stripTerminalControls('rm -rf /\x1b[2K\x1b[1G\x1b[1Aharmless')).toBe('rm -rf /harmless');
    expect(stripTerminalControls('x\x1b[2Jy\x1bcz\x1bPq#0;1;1\x1b\\w')).toBe('xyzw');
  });
  it('keeps colours, newlines, tabs and text', () => {
    expect(stripTerminalControls('\x1b[1;31mred\x1b[0m\tx\r\n')).toBe('\x1b[1;31mred\x1b[0m\tx\r\n');
  });
  it('handles sequences split across chunks', () => {
    const f = createTerminalFilter();
    expect(f('a\x1b]52;c;')).toBe('a');
    expect(f('AAAA\x07b\x1b[')).toBe('b');
    expect(f('31mc')).toBe('\x1b[31mc');
  });
});
