import type { Node } from './parser.js';
import type { Decision } from './types.js';

/** One shell word after quote removal. `literal` is false when its value depends on expansion. */
export interface Word {
  readonly value: string;
  readonly literal: boolean;
  /** Unquoted leading `~` (tilde expansion applies). */
  readonly tilde: boolean;
  /** Source text of the word as written. */
  readonly source: string;
}

export interface Redirect {
  /** Operator as written: `>`, `>>`, `&>`, `&>>`, `>|`, `<`, `<>`, `>&`, `<&`, `<<`, `<<<`. */
  readonly op: string;
  readonly fd: string | undefined;
  readonly target: Word | undefined;
}

/** A simple command (or a construct the engine reports on its own) found in a script. */
export interface RawSegment {
  readonly kind: 'command' | 'construct';
  readonly text: string;
  readonly words: Word[];
  readonly assignments: { readonly name: string; readonly value: Word | undefined }[];
  readonly redirects: Redirect[];
  /** Findings made while reading the syntax (unparseable pieces, unsupported constructs). */
  readonly problems: { readonly decision: Decision; readonly reason: string }[];
}

/** Node types that are statements (contain commands). */
const CONTAINERS = new Set([
  'program',
  'list',
  'pipeline',
  'subshell',
  'compound_statement',
  'negated_command',
  'do_group',
  'else_clause',
  'elif_clause',
  'if_statement',
  'while_statement',
  'for_statement',
  'c_style_for_statement',
  'case_statement',
  'case_item',
]);

/** Non-statement children of containers that are only scanned for substitutions. */
const EXPRESSIONS = new Set([
  'word',
  'string',
  'raw_string',
  'ansi_c_string',
  'translated_string',
  'concatenation',
  'number',
  'simple_expansion',
  'expansion',
  'command_substitution',
  'process_substitution',
  'arithmetic_expansion',
  'brace_expression',
  'variable_name',
  'special_variable_name',
  'test_operator',
  'binary_expression',
  'unary_expression',
  'parenthesized_expression',
  'ternary_expression',
  'postfix_expression',
  'extglob_pattern',
  'regex',
  'heredoc_body',
]);

/** Node types that never run anything by themselves. */
const INERT = new Set(['comment', 'heredoc_start', 'heredoc_end', 'file_descriptor']);

const EXPANSIONS = new Set([
  'simple_expansion',
  'expansion',
  'command_substitution',
  'process_substitution',
  'arithmetic_expansion',
  'brace_expression',
  'extglob_pattern',
]);

function unescapeUnquoted(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\\r?\n/g, '').replace(/\\(.)/gs, '$1');
}

function unescapeDouble(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\\r?\n/g, '').replace(/\\([$`"\\])/g, '$1');
}

const ANSI_C: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

function decodeAnsiC(body: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    if (next === undefined) return undefined;
    const simple = ANSI_C[next];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const hex = next === 'x' ? /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1)) : null;
    if (hex) {
      out += String.fromCharCode(Number.parseInt(hex[0], 16));
      i += hex[0].length;
      continue;
    }
    const oct = /^[0-7]{1,3}/.exec(body.slice(i));
    if (oct) {
      out += String.fromCharCode(Number.parseInt(oct[0], 8));
      i += oct[0].length - 1;
      continue;
    }
    return undefined; // \u, \c… : not decoded, so the word is treated as dynamic
  }
  return out;
}

/**
 * Walks a tree-sitter-bash tree and flattens it into the simple commands that would run,
 * including those inside `$(…)`, backticks, `<(…)`, here-doc bodies, control structures and
 * subshells. Anything it does not model becomes a `construct` segment with a `prompt` problem.
 */
export class SegmentCollector {
  readonly segments: RawSegment[] = [];
  /** Set once any parse problem (ERROR/MISSING node) was recorded. */
  sawParseError = false;
  /**
   * Whether the tree has any ERROR/MISSING node. When false (the common case) the per-node error
   * checks, each a call into wasm, are skipped.
   */
  private readonly errors: boolean;

  /** The parsed text: node text is sliced from it (web-tree-sitter indices are UTF-16 offsets for string input). */
  private readonly source: string;

  constructor(source: string, treeHasError = true) {
    this.source = source;
    this.errors = treeHasError;
  }

  private text(node: Node): string {
    return this.source.slice(node.startIndex, node.endIndex);
  }

  walk(node: Node, knownType?: string): void {
    const type = knownType ?? node.type;
    if (this.errors && node.isMissing) {
      this.construct(node, 'prompt', `incomplete script: missing ${JSON.stringify(type)}`);
      return;
    }
    if (type === 'ERROR') {
      this.construct(node, 'prompt', `script does not parse near ${JSON.stringify(clip(this.text(node)))}`);
      for (const child of node.children) if (child) this.scan(child);
      return;
    }
    if (type === 'c_style_for_statement') {
      this.construct(
        node,
        'prompt',
        'for (( … )) evaluates variables as arithmetic expressions, whose values can run commands',
      );
    } else if (type === 'compound_statement' && node.child(0)?.type === '((') {
      const problem = arithmeticProblem(this.text(node));
      if (problem) this.construct(node, 'prompt', problem);
    }
    if (CONTAINERS.has(type)) {
      for (const child of node.namedChildren) {
        if (!child) continue;
        const t = child.type;
        if (STATEMENTS.has(t) || !EXPRESSIONS.has(t)) this.walk(child, t);
        else this.scan(child, t);
      }
      if (this.errors && node.hasError && !node.namedChildren.some((c) => c?.hasError)) {
        this.construct(node, 'prompt', `script does not parse near ${JSON.stringify(clip(this.text(node)))}`);
      }
      return;
    }
    switch (type) {
      case 'command':
        this.command(node, []);
        return;
      case 'redirected_statement': {
        const body = node.childForFieldName('body');
        const bodyId = body?.id;
        const redirects: Node[] = [];
        for (const child of node.namedChildren) {
          if (!child || child.id === bodyId) continue;
          const t = child.type;
          if (t.endsWith('redirect')) redirects.push(child);
          else if (!INERT.has(t)) this.walk(child, t);
        }
        if (body?.type === 'command') {
          this.command(body, redirects, node);
        } else {
          if (body) this.walk(body);
          const seg = this.newSegment(node, 'construct');
          for (const r of redirects) this.redirect(r, seg);
          this.segments.push(seg);
        }
        return;
      }
      case 'variable_assignment':
      case 'variable_assignments': {
        const seg = this.newSegment(node, 'command');
        this.assignments(node, seg);
        this.segments.push(seg);
        return;
      }
      case 'declaration_command': {
        // export / declare / local / readonly / typeset: the words are names or assignments.
        const seg = this.newSegment(node, 'command');
        const keyword = node.child(0) ? this.text(node.child(0)!) : 'declare';
        seg.words.push({ value: keyword, literal: true, tilde: false, source: keyword });
        for (const child of node.namedChildren) {
          if (!child) continue;
          if (child.type === 'variable_assignment') this.assignments(child, seg);
          else seg.words.push(this.word(child));
        }
        this.segments.push(seg);
        return;
      }
      case 'unset_command': {
        const seg = this.newSegment(node, 'command');
        seg.words.push({ value: 'unset', literal: true, tilde: false, source: 'unset' });
        for (const child of node.namedChildren) if (child) seg.words.push(this.word(child));
        this.segments.push(seg);
        return;
      }
      case 'test_command':
        // [[ … ]] and [ … ] only test; what they contain may still run via substitutions, and
        // arithmetic comparisons / -v evaluate subscripts (see testProblem).
        this.scan(node);
        return;
      case 'function_definition': {
        this.construct(node, 'prompt', 'defines a shell function, which can shadow any command name');
        for (const child of node.namedChildren) if (child && isStatement(child)) this.walk(child);
        return;
      }
      case 'comment':
        return;
      default:
        this.construct(node, 'prompt', `unsupported shell construct "${type}"`);
        this.scan(node);
    }
  }

  /** Finds command substitutions and parse errors inside a non-statement node. */
  scan(node: Node, knownType?: string): void {
    const type = knownType ?? node.type;
    if (type === 'command_substitution' || type === 'process_substitution') {
      for (const child of node.namedChildren) if (child) this.walk(child);
      if (this.errors && node.hasError && !node.namedChildren.some((c) => c?.hasError)) {
        this.construct(
          node,
          'prompt',
          `substitution does not parse: ${JSON.stringify(clip(this.text(node)))}`,
        );
      }
      return;
    }
    if (type === 'ERROR' || (this.errors && node.isMissing)) {
      this.walk(node, type);
      return;
    }
    if (LEAVES.has(type)) return;
    if (type === 'arithmetic_expansion' || type === 'subscript' || type === 'expansion') {
      const problem = expansionProblem(type, this.text(node), node);
      if (problem) this.construct(node, 'prompt', problem);
    } else if (type === 'binary_expression' || type === 'unary_expression') {
      const problem = testProblem(node, (n) => this.text(n));
      if (problem) this.construct(node, 'prompt', problem);
    }
    if (node.childCount === 0) return;
    for (const child of node.children) if (child) this.scan(child);
  }

  private newSegment(node: Node, kind: RawSegment['kind']): RawSegment & { words: Word[] } {
    return { kind, text: this.text(node), words: [], assignments: [], redirects: [], problems: [] };
  }

  private construct(node: Node, decision: Decision, reason: string): void {
    if (/parse|missing/.test(reason)) this.sawParseError = true;
    const seg = this.newSegment(node, 'construct');
    seg.problems.push({ decision, reason });
    this.segments.push(seg);
  }

  private assignments(node: Node, seg: RawSegment): void {
    if (node.type === 'variable_assignments') {
      for (const child of node.namedChildren) if (child) this.assignments(child, seg);
      return;
    }
    const nameNode = node.childForFieldName('name');
    let name = nameNode ? this.text(nameNode) : this.text(node);
    if (nameNode?.type === 'subscript') {
      // x[$(cmd)]=1 runs cmd; x[i]=1 evaluates the value of i as arithmetic (which can run commands).
      this.scan(nameNode, 'subscript');
      name = nameNode.childForFieldName('name') ? this.text(nameNode.childForFieldName('name')!) : name;
    }
    const valueNode = node.childForFieldName('value');
    if (valueNode?.type === 'array') {
      // `x=([i]=v)`: bash evaluates each `[i]` of an indexed array as arithmetic, so a value
      // such as `[$(cat f)]=1` runs whatever `x[$(cmd)]` the file holds.
      for (const element of valueNode.namedChildren) {
        if (!element) continue;
        const m = /^\[([^\]]*)\]\+?=/.exec(this.text(element));
        if (m && !PLAIN_INDEX.test(m[1]!.trim()))
          this.construct(
            element,
            'prompt',
            `array element ${JSON.stringify(clip(this.text(element)))}: its subscript is evaluated as arithmetic, which can run commands`,
          );
      }
    }
    seg.assignments.push({ name, value: valueNode ? this.word(valueNode) : undefined });
  }

  private command(node: Node, extraRedirects: Node[], outer?: Node): void {
    const seg = this.newSegment(outer ?? node, 'command');
    for (const child of node.namedChildren) {
      if (!child) continue;
      const t = child.type;
      if (t === 'word') seg.words.push(this.word(child, t));
      else if (t === 'variable_assignment') this.assignments(child, seg);
      else if (t === 'command_name') {
        const inner = child.namedChild(0);
        seg.words.push(inner ? this.word(inner) : this.word(child));
      } else if (t.endsWith('redirect')) this.redirect(child, seg);
      else if (t === 'comment') continue;
      else seg.words.push(this.word(child));
    }
    for (const r of extraRedirects) this.redirect(r, seg);
    if (this.errors && node.hasError) {
      this.sawParseError = true;
      seg.problems.push({
        decision: 'prompt',
        reason: `command does not parse: ${JSON.stringify(clip(this.text(node)))}`,
      });
    }
    this.segments.push(seg);
  }

  private redirect(node: Node, seg: RawSegment): void {
    let op = '';
    let fd: string | undefined;
    let target: Word | undefined;
    for (const child of node.children) {
      if (!child) continue;
      if (!child.isNamed) {
        if (!op) op = child.type;
        continue;
      }
      if (child.type === 'file_descriptor') fd = this.text(child);
      else if (
        child.type === 'heredoc_body' ||
        child.type === 'heredoc_start' ||
        child.type === 'heredoc_end'
      ) {
        if (child.type === 'heredoc_end' && !this.endsHeredoc(child, op === '<<-')) {
          // bash ends a here-document only at a line that is exactly the delimiter; tree-sitter
          // also accepts `EOF && cmd`, where bash keeps reading (and expanding) the body.
          this.construct(
            child,
            'prompt',
            'here-document delimiter is not alone on its line, so bash and the parser disagree on where the body ends',
          );
        }
        this.scan(child);
      } else if (child.type.endsWith('redirect')) {
        this.redirect(child, seg); // a file redirect nested in a here-doc redirect
      } else if (target === undefined) target = this.word(child);
      else this.scan(child);
    }
    if (node.type === 'heredoc_redirect') op = op || '<<';
    if (node.type === 'herestring_redirect') op = '<<<';
    seg.redirects.push({ op, fd, target });
  }

  /** A heredoc_end node that bash would also take as the end: alone on its line (after tabs for `<<-`). */
  private endsHeredoc(node: Node, dash: boolean): boolean {
    const after = this.source[node.endIndex];
    if (after !== undefined && after !== '\n') return false;
    let i = node.startIndex - 1;
    while (dash && i >= 0 && this.source[i] === '\t') i--;
    return i < 0 || this.source[i] === '\n';
  }

  /** Resolves a word node to its value after quote removal; scans nested substitutions. */
  word(node: Node, knownType?: string): Word {
    const source = this.text(node);
    const type = knownType ?? node.type;
    if (
      type === 'word' ||
      type === 'number' ||
      type === 'test_operator' ||
      type === 'variable_name' ||
      type === 'special_variable_name'
    ) {
      const tilde = type === 'word' && source.startsWith('~');
      return { value: unescapeUnquoted(source), literal: true, tilde, source };
    }
    if (type === 'raw_string') return { value: source.slice(1, -1), literal: true, tilde: false, source };
    if (type === 'ansi_c_string') {
      const decoded = decodeAnsiC(source.slice(2, -1));
      return { value: decoded ?? source, literal: decoded !== undefined, tilde: false, source };
    }
    if (type === 'string' || type === 'translated_string') {
      let value = '';
      let literal = true;
      const inner = type === 'translated_string' ? (node.namedChild(0) ?? node) : node;
      for (const child of inner.namedChildren) {
        if (!child) continue;
        const t = child.type;
        if (t === 'string_content') value += unescapeDouble(this.text(child));
        else {
          literal = false;
          value += this.text(child);
          this.scan(child, t);
        }
      }
      if (this.errors && inner.hasError) literal = false;
      // tree-sitter-bash emits no string_content for whitespace-only parts (`" "`): take a plain
      // string's value from its source text so it is exactly what bash passes.
      if (literal) {
        const open = type === 'translated_string' ? 2 : 1;
        value = unescapeDouble(source.slice(open, -1));
      }
      return { value, literal, tilde: false, source };
    }
    if (type === 'concatenation') {
      let value = '';
      let literal = true;
      let tilde = false;
      let first = true;
      let braceOpen = false;
      for (const child of node.namedChildren) {
        if (!child) continue;
        const w = this.word(child);
        if (first) tilde = w.tilde;
        first = false;
        value += w.value;
        literal &&= w.literal;
        // tree-sitter-bash splits brace expansion {a,b} into the words "{", "a,b", "}".
        if (child.type === 'word' && this.text(child) === '{') braceOpen = true;
        else if (braceOpen && /,|\.\./.test(this.text(child))) literal = false;
      }
      return { value, literal, tilde, source };
    }
    if (type === 'process_substitution') {
      // bash passes a pipe path such as /dev/fd/63; the commands inside are evaluated on their own.
      this.scan(node);
      return { value: '/dev/fd/63', literal: true, tilde: false, source };
    }
    if (EXPANSIONS.has(type)) {
      this.scan(node);
      return { value: source, literal: false, tilde: false, source };
    }
    this.scan(node);
    return { value: source, literal: false, tilde: false, source };
  }
}

const STATEMENTS = new Set([
  ...CONTAINERS,
  'command',
  'redirected_statement',
  'variable_assignment',
  'variable_assignments',
  'declaration_command',
  'unset_command',
  'test_command',
  'function_definition',
  'ERROR',
]);

/** Leaf-like nodes that can contain no command substitution. */
const LEAVES = new Set([
  'word',
  'number',
  'raw_string',
  'string_content',
  'variable_name',
  'special_variable_name',
  'test_operator',
  'file_descriptor',
  'heredoc_start',
  'heredoc_end',
  'ansi_c_string',
  'comment',
  'regex',
]);

export function isStatement(node: Node): boolean {
  return STATEMENTS.has(node.type);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const ARITH_LITERAL = /^[\s0-9+\-*/%()<>=!&|^~?:,]*$/;

/** `$(( … ))`, `$[ … ]`, `(( … ))`: only number literals and operators are provably harmless. */
export function arithmeticProblem(text: string): string | undefined {
  let body = text;
  if (body.startsWith('$((') && body.endsWith('))')) body = body.slice(3, -2);
  else if (body.startsWith('((') && body.endsWith('))')) body = body.slice(2, -2);
  else if (body.startsWith('$[') && body.endsWith(']')) body = body.slice(2, -1);
  else return `arithmetic ${JSON.stringify(clip(text))} is not understood`;
  if (ARITH_LITERAL.test(body)) return undefined;
  return `arithmetic ${JSON.stringify(clip(text))} evaluates variables as expressions; a value such as x[$(cmd)] runs cmd`;
}

const PLAIN_INDEX = /^([0-9]+|@|\*)$/;
const EXPANSION = /^\$\{(#?)([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(\[([^\]]*)\])?(.*)\}$/s;

/** Checks `${…}` forms, subscripts and arithmetic for the ways bash turns a value into code. */
function expansionProblem(type: string, text: string, node: Node): string | undefined {
  if (type === 'arithmetic_expansion') return arithmeticProblem(text);
  if (type === 'subscript') {
    const index = node.childForFieldName('index');
    const idx = index ? text.slice(index.startIndex - node.startIndex, index.endIndex - node.startIndex) : '';
    return PLAIN_INDEX.test(idx.trim())
      ? undefined
      : `array subscript ${JSON.stringify(clip(text))} is evaluated as arithmetic, which can run commands`;
  }
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bash indirection `${!name}`
  if (text.startsWith('${!') && text !== '${!}')
    return `indirection ${JSON.stringify(clip(text))} expands a variable named by a value, which can run commands`;
  const m = EXPANSION.exec(text);
  if (!m)
    return `parameter expansion ${JSON.stringify(clip(text))} (indirection or an unusual form) is not analysed`;
  const [, , name, , index, rest = ''] = m;
  if (index !== undefined && !PLAIN_INDEX.test(index.trim()))
    return `array subscript in ${JSON.stringify(clip(text))} is evaluated as arithmetic, which can run commands`;
  if (rest.startsWith('@') && !/^@[QEULuaAKk]$/.test(rest))
    return `${JSON.stringify(clip(text))} expands the value as a prompt string, which can run commands`;
  if (rest.startsWith(':') && !/^:[-=?+]/.test(rest) && !/^:\s*-?[0-9]+\s*(:\s*-?[0-9]+\s*)?$/.test(rest))
    return `substring offsets in ${JSON.stringify(clip(text))} are arithmetic on variables, which can run commands`;
  if (/^:?=/.test(rest) && isDangerousName(name ?? ''))
    return `${JSON.stringify(clip(text))} may assign ${name}, which changes what later commands run or load`;
  return undefined;
}

const TEST_ARITH = new Set(['-eq', '-ne', '-lt', '-le', '-gt', '-ge']);

/** `[[ a -eq b ]]` evaluates both sides as arithmetic; `[[ -v a[i] ]]` evaluates the subscript. */
function testProblem(node: Node, text: (n: Node) => string): string | undefined {
  const op = node.childForFieldName('operator');
  if (!op) return undefined;
  const operator = text(op);
  if (node.type === 'binary_expression' && TEST_ARITH.has(operator)) {
    for (const side of [node.childForFieldName('left'), node.childForFieldName('right')]) {
      if (side && !/^-?[0-9]+$/.test(text(side)))
        return `[[ … ${operator} … ]] evaluates ${JSON.stringify(clip(text(side)))} as arithmetic, which can run commands`;
    }
  }
  if (node.type === 'unary_expression' && (operator === '-v' || operator === '-R')) {
    const operand = node.namedChildren.find((c) => c && c.id !== op.id);
    if (operand && !/^[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?$/.test(text(operand)))
      return `[[ ${operator} ${clip(text(operand))} ]] evaluates a subscript, which can run commands`;
  }
  return undefined;
}

/**
 * Environment and shell variables that make a program load code or configuration, move its
 * config directory, or change how later commands are found. Families are matched, not a list of
 * strings: anything ending in PATH, OPTIONS/OPTS, CONFIG, RC, HOME or PAGER, every LD_/DYLD_/GIT_/
 * XDG_/BASH_/PYTHON/NODE_/NPM_/PERL/RUBY/JAVA/LESS/SSH_ name, and the single names below.
 */
const DANGEROUS_NAME =
  /^(.*PATH|.*_?OPTIONS?|.*OPTS?|.*CONFIG.*|.*RC|.*_?HOME|.*PAGER|.*EDITOR|.*SHELL|.*ASKPASS|.*_PROXY|.*_proxy|LD_.*|DYLD_.*|GIT_.*|XDG_.*|BASH.*|PYTHON.*|NODE_.*|NPM_.*|npm_.*|YARN_.*|PNPM_.*|PERL.*|RUBY.*|GEM_.*|BUNDLE_.*|JAVA.*|_JAVA.*|JDK_.*|CLASSPATH|LESS.*|SSH_.*|GCONV_.*|LOCPATH|NLSPATH|GLIBC_TUNABLES|MALLOC_.*|HOSTALIASES|RES_OPTIONS|LOCALDOMAIN|ENV|HOME|PS[0-4]|PROMPT_COMMAND|IFS|CDPATH|GLOBIGNORE|EXECIGNORE|FIGNORE|SHELLOPTS|INPUTRC|HISTFILE|TMPDIR|TMP|TEMP|VISUAL|BROWSER|MAN.*|GROFF.*|TAR_.*|GZIP|BZIP2?|XZ_.*|ZSTD_.*|MAGIC|SSLKEYLOGFILE|CURL_.*|WGETRC|SYSTEM_WGETRC|TERMINFO.*|POSIXLY_CORRECT|LUA_.*|CARGO_.*|RUSTC.*|RUSTUP_.*|RUSTFLAGS|GO(FLAGS|PATH|ROOT|PROXY|ENV|BIN|CACHE|MODCACHE|TOOLCHAIN|EXPERIMENT|DEBUG|PRIVATE|NOSUMDB|SUMDB|INSECURE)|CC|CXX|CPP|LD|AR|MAKE.*|MFLAGS|ZDOTDIR|SUDO_.*|DOCKER_.*|KUBECONFIG|AWS_.*|GH_.*|GITHUB_.*|RIPGREP_.*|FZF_.*|FD_.*|JQ_.*|GREP_.*|TZDIR|LOCPATH|.*%%)$/;

/** A variable name that changes what later commands run or which config they load. */
export function isDangerousName(name: string): boolean {
  if (HARMLESS_NAME.has(name)) return false;
  return DANGEROUS_NAME.test(name) || name.startsWith('BASH_FUNC_');
}

/** Names inside the families above that only select a mode, never code or config. */
const HARMLESS_NAME = new Set(['NODE_ENV', 'PYTHONUNBUFFERED', 'PYTHONDONTWRITEBYTECODE', 'PYTHONHASHSEED']);
