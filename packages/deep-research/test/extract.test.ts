import { describe, expect, it } from 'vitest';
import { extractMainText } from '../src/index.js';
import { page } from './loopback-server.js';

describe('extractMainText', () => {
  it('real texinfo page: keeps the body text, drops the navigation header and the licence comment', () => {
    const p = extractMainText(page('libffi-Memory-Usage.html'));
    expect(p.title).toBe('Memory Usage (libffi: the portable foreign function interface library)');
    expect(p.text).toMatch(/^3 Memory Usage\n\nNote that memory allocated by ffi_closure_alloc/);
    expect(p.text).toMatch(/ffi_closure_alloc/);
    expect(p.text).not.toMatch(/Next: |Previous: |Up: /);
    expect(p.text).not.toMatch(/Permission is hereby granted/);
    expect(p.text).not.toMatch(/copiable-anchor/);
  });

  it('real Debian users-and-groups page: keeps its sections', () => {
    const p = extractMainText(page('users-and-groups.html'));
    expect(p.title).toMatch(/Users and Groups/i);
    expect(p.text).toMatch(/root/);
    expect(p.text.length).toBeGreaterThan(5000);
  });

  it('prefers <main>/<article> and drops script, style, nav, footer, link lists and boilerplate classes', () => {
    const html = `<!doctype html><html><head><title>T</title><style>p{color:red}</style></head><body>
      <nav><a href="/">Home</a> <a href="/a">About</a></nav>
      <div class="cookie-banner">We use cookies</div>
      <ul><li><a href="/1">One link</a></li><li><a href="/2">Two links</a></li></ul>
      <main><h1>Heading</h1><p>${'Real content sentence. '.repeat(12)}</p>
      <script>alert("x")</script><p>Second &amp; last paragraph with <a href="/x">a link</a> inside plenty of words.</p></main>
      <footer>© someone</footer></body></html>`;
    const p = extractMainText(html);
    expect(p.usedMainContainer).toBe(true);
    expect(p.title).toBe('T');
    expect(p.text.split('\n\n')).toEqual([
      'Heading',
      'Real content sentence. '.repeat(12).trim(),
      'Second & last paragraph with a link inside plenty of words.',
    ]);
  });

  it('without a main container it drops link-dense blocks and keeps paragraphs', () => {
    const html = `<body><div><a href="a">alpha</a> <a href="b">beta</a> <a href="c">gamma</a></div>
      <p>Plain paragraph one.</p><pre>code  line 1
code  line 2</pre></body>`;
    const p = extractMainText(html);
    expect(p.usedMainContainer).toBe(false);
    expect(p.text).toBe('Plain paragraph one.\n\ncode  line 1\ncode  line 2');
  });
});
