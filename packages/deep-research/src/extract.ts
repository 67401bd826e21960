import { Parser } from 'htmlparser2';

/** Main text of a page, as paragraphs joined by blank lines. */
export interface ExtractedPage {
  readonly title: string;
  readonly text: string;
  /** Whether a `<main>`/`<article>`/`role=main` container supplied the text. */
  readonly usedMainContainer: boolean;
}

const SKIP_TAGS = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'head',
  'nav',
  'header',
  'footer',
  'aside',
  'form',
  'button',
  'iframe',
  'select',
  'textarea',
  'object',
  'canvas',
]);
const BLOCK_TAGS = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'li',
  'ul',
  'ol',
  'dl',
  'dt',
  'dd',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'blockquote',
  'table',
  'tr',
  'td',
  'th',
  'br',
  'hr',
  'figure',
  'figcaption',
  'address',
]);
const VOID_TAGS = new Set([
  'br',
  'hr',
  'img',
  'input',
  'meta',
  'link',
  'area',
  'base',
  'col',
  'embed',
  'source',
  'wbr',
]);
const BOILERPLATE =
  /(^|[\s_-])(nav|navbar|navigation|menu|footer|header|sidebar|breadcrumbs?|cookie|banner|advert|ads|share|social|comments?|skip-link)($|[\s_-])/i;
const BOILERPLATE_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'search']);

interface Block {
  text: string;
  linkChars: number;
  inMain: boolean;
}

/**
 * Extracts the readable main text of an HTML page: drops scripts, styles, navigation, headers,
 * footers, asides, forms and elements whose class/id/role name them as boilerplate; prefers the
 * `<main>`/`<article>` container when it holds real text; drops link-dense blocks (menus).
 */
export function extractMainText(html: string, options: { maxLinkDensity?: number } = {}): ExtractedPage {
  const maxLinkDensity = options.maxLinkDensity ?? 0.5;
  const blocks: Block[] = [];
  const stack: { name: string; skip: boolean; main: boolean; link: boolean }[] = [];
  let title = '';
  let h1 = '';
  let inTitle = false;
  let inH1 = false;
  let inPre = 0;
  let current: Block = { text: '', linkChars: 0, inMain: false };
  const top = () => stack[stack.length - 1];
  const flush = () => {
    const text = inPre > 0 ? current.text.replace(/[ \t]+$/gm, '') : current.text.replace(/\s+/g, ' ');
    if (text.trim().length > 0) blocks.push({ ...current, text: text.trim() });
    current = { text: '', linkChars: 0, inMain: top()?.main ?? false };
  };
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'title') inTitle = true;
        if (name === 'h1') inH1 = true;
        const parent = top();
        const label = `${attrs.class ?? ''} ${attrs.id ?? ''}`;
        const skip =
          (parent?.skip ?? false) ||
          SKIP_TAGS.has(name) ||
          BOILERPLATE_ROLES.has((attrs.role ?? '').toLowerCase()) ||
          (name !== 'body' && name !== 'html' && BOILERPLATE.test(label)) ||
          attrs.hidden !== undefined ||
          attrs['aria-hidden'] === 'true';
        const main =
          (parent?.main ?? false) || name === 'main' || name === 'article' || attrs.role === 'main';
        if (BLOCK_TAGS.has(name)) flush();
        if (name === 'pre') inPre++;
        if (!VOID_TAGS.has(name))
          stack.push({ name, skip, main, link: (parent?.link ?? false) || name === 'a' });
        current.inMain = current.inMain || main;
      },
      ontext(data) {
        if (inTitle) {
          title += data;
          return;
        }
        const t = top();
        if (t?.skip) return;
        if (inH1) h1 += data;
        current.text += data;
        if (t?.link) current.linkChars += data.replace(/\s+/g, '').length;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (name === 'h1') inH1 = false;
        if (VOID_TAGS.has(name)) {
          if (BLOCK_TAGS.has(name)) flush();
          return;
        }
        if (BLOCK_TAGS.has(name)) flush();
        if (name === 'pre') inPre = Math.max(0, inPre - 1);
        // pop up to and including the matching element (htmlparser2 closes implied tags itself)
        for (let i = stack.length - 1; i >= 0; i--) {
          if (stack[i]!.name === name) {
            stack.length = i;
            break;
          }
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  flush();
  const dense = (b: Block) => {
    const chars = b.text.replace(/\s+/g, '').length;
    return chars > 0 && b.linkChars / chars > maxLinkDensity;
  };
  const kept = blocks.filter((b) => !dense(b));
  const mainBlocks = kept.filter((b) => b.inMain);
  const mainChars = mainBlocks.reduce((n, b) => n + b.text.length, 0);
  const usedMainContainer = mainChars >= 200;
  const chosen = usedMainContainer ? mainBlocks : kept;
  return {
    title: (title.trim() || h1.trim()).replace(/\s+/g, ' '),
    text: chosen.map((b) => b.text).join('\n\n'),
    usedMainContainer,
  };
}

/** True when `contentType` (or, lacking one, the body) looks like HTML. */
export function looksLikeHtml(contentType: string | undefined, body: string): boolean {
  if (contentType) return /html|xml/i.test(contentType);
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(body);
}
