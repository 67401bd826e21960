import type { Word } from './shell.js';

/**
 * Option tables for the tools the default policy allows, read the way each tool's own parser
 * reads them (GNU getopt_long: clustered short options, a value glued to its letter or in the next
 * word, long options abbreviated to any prefix, options after operands). Every option that runs a
 * program, loads code or config, or writes a file is listed with its effect.
 */

/** What an option does beyond reading. */
export type Effect =
  /** runs a program or code the engine does not see */
  | 'exec'
  /** its value is a path the tool writes */
  | 'write'
  /** anything else that must be asked about (the reason says what) */
  | 'prompt'
  /** its value is a shell variable name the builtin assigns */
  | 'name';

interface Opt {
  /** `required`: glued or the next word; `optional`: only glued or after `=`. */
  readonly arg?: 'required' | 'optional' | undefined;
  readonly effect?: Effect;
  readonly why?: string;
}

export interface ToolSpec {
  readonly short: ReadonlyMap<string, Opt>;
  readonly long: ReadonlyMap<string, Opt>;
  /** Every prefix of every long option → the options it abbreviates (built once). */
  readonly prefixes?: ReadonlyMap<string, readonly (readonly [string, Opt])[]>;
  /** Single-dash long options matched as whole words (find, xxd). */
  readonly words?: ReadonlyMap<string, Opt>;
  /** Options stop at the first operand (wrappers, POSIX utilities, bash builtins). */
  readonly stopAtOperand?: boolean;
  /** Which operands the tool writes: every one, the last, or by position (0-based). */
  readonly operandWrites?: 'all' | 'last' | readonly number[] | undefined;
  /** A `+…` word is an option that runs commands (less `+!cmd`). */
  readonly plus?: 'prompt';
  /** Without an explicit output option the tool writes into the working directory. */
  readonly writesCwdUnless?: readonly string[];
  /** Only these options are understood; any other option prompts. */
  readonly strict?: boolean;
}

/**
 * Builds a spec from getopt-style text: `short` like `"ab:c::"` (`:` value, `::` optional value),
 * `long` like `["output=", "color?", "verbose"]`, and effects keyed by `-x` / `--name` / `-word`.
 * The maps are built on first use: a process that evaluates one command (a `codex exec`) builds
 * the one or two specs it reads, not all of them at import.
 */
function spec(
  short: string,
  long: readonly string[],
  effects: Readonly<Record<string, Effect | [Effect, string]>> = {},
  extra: Partial<Omit<ToolSpec, 'short' | 'long' | 'words'>> & { words?: readonly string[] } = {},
): ToolSpec {
  const { words, ...rest } = extra;
  let built: Pick<ToolSpec, 'short' | 'long' | 'prefixes' | 'words'> | undefined;
  const maps = () => (built ??= buildMaps(short, long, effects, words));
  const lazy = { enumerable: true, configurable: false } as const;
  return Object.defineProperties(
    { ...rest },
    {
      short: { ...lazy, get: () => maps().short },
      long: { ...lazy, get: () => maps().long },
      prefixes: { ...lazy, get: () => maps().prefixes },
      ...(words ? { words: { ...lazy, get: () => maps().words } } : {}),
    },
  ) as ToolSpec;
}

function buildMaps(
  short: string,
  long: readonly string[],
  effects: Readonly<Record<string, Effect | [Effect, string]>>,
  words: readonly string[] | undefined,
): Pick<ToolSpec, 'short' | 'long' | 'prefixes' | 'words'> {
  const eff = (key: string): Pick<Opt, 'effect' | 'why'> => {
    const e = effects[key];
    if (e === undefined) return {};
    return Array.isArray(e) ? { effect: e[0], why: e[1] } : { effect: e };
  };
  const shortMap = new Map<string, Opt>();
  for (let i = 0; i < short.length; i++) {
    const letter = short[i]!;
    let arg: Opt['arg'];
    if (short[i + 1] === ':') {
      arg = short[i + 2] === ':' ? 'optional' : 'required';
      i += arg === 'optional' ? 2 : 1;
    }
    shortMap.set(letter, { arg, ...eff(`-${letter}`) });
  }
  for (const key of Object.keys(effects)) {
    if (/^-[^-]$/.test(key) && !shortMap.has(key[1]!)) shortMap.set(key[1]!, eff(key));
  }
  const longMap = new Map<string, Opt>();
  for (const raw of long) {
    const name = raw.replace(/[=?]$/, '');
    const arg = raw.endsWith('=') ? 'required' : raw.endsWith('?') ? 'optional' : undefined;
    longMap.set(name, { arg, ...eff(`--${name}`) });
  }
  for (const key of Object.keys(effects)) {
    if (key.startsWith('--') && !longMap.has(key.slice(2))) longMap.set(key.slice(2), eff(key));
  }
  let wordMap: Map<string, Opt> | undefined;
  if (words) {
    wordMap = new Map();
    for (const raw of words) {
      const name = raw.replace(/=$/, '');
      wordMap.set(name, { arg: raw.endsWith('=') ? 'required' : undefined, ...eff(name) });
    }
  }
  return {
    short: shortMap,
    long: longMap,
    prefixes: prefixIndex(longMap),
    ...(wordMap ? { words: wordMap } : {}),
  };
}

function prefixIndex(long: ReadonlyMap<string, Opt>): Map<string, (readonly [string, Opt])[]> {
  const index = new Map<string, (readonly [string, Opt])[]>();
  for (const entry of long) {
    for (let n = 1; n <= entry[0].length; n++) {
      const key = entry[0].slice(0, n);
      const list = index.get(key);
      if (list) list.push(entry);
      else index.set(key, [entry]);
    }
  }
  return index;
}

const W: [Effect, string] = ['write', 'writes the file named by its value'];

const CP_LIKE = (writes: ToolSpec['operandWrites'], more: string, moreLong: readonly string[] = []) =>
  spec(
    `t:S:${more}`,
    [
      'target-directory=',
      'suffix=',
      'backup?',
      'no-target-directory',
      'force',
      'interactive',
      'verbose',
      'recursive',
      'archive',
      'preserve?',
      'no-preserve=',
      'reflink?',
      'sparse=',
      'symbolic',
      'relative',
      'logical',
      'physical',
      'no-clobber',
      'update?',
      'strip',
      'strip-program=',
      'mode=',
      'owner=',
      'group=',
      'directory',
      'context?',
      'remove-destination',
      'parents',
      'link',
      'dereference',
      'no-dereference',
      'one-file-system',
      'attributes-only',
      'copy-contents',
      'exchange',
      'debug',
      ...moreLong,
    ],
    {
      '-t': W,
      '--target-directory': W,
      '--strip-program': ['exec', 'runs the named program to strip binaries'],
    },
    { operandWrites: writes },
  );

const CURL_WRITES: Record<string, Effect | [Effect, string]> = {
  '-o': W,
  '--output': W,
  '--output-dir': W,
  '-D': W,
  '--dump-header': W,
  '-c': W,
  '--cookie-jar': W,
  '--trace': W,
  '--trace-ascii': W,
  '--stderr': W,
  '--etag-save': W,
  '--libcurl': W,
  '--hsts': W,
  '--alt-svc': W,
  '-K': ['prompt', 'reads options (such as output files) from a config file'],
  '--config': ['prompt', 'reads options (such as output files) from a config file'],
  '--engine': ['prompt', 'loads a crypto engine (shared library)'],
};

const TOOLS: Record<string, ToolSpec> = {
  date: spec(
    'd:f:I::r:s:uR',
    [
      'date=',
      'file=',
      'iso-8601?',
      'rfc-3339=',
      'reference=',
      'set=',
      'debug',
      'resolution',
      'rfc-email',
      'universal',
      'utc',
      'uct',
    ],
    {
      '-s': ['prompt', 'sets the system clock'],
      '--set': ['prompt', 'sets the system clock'],
    },
  ),
  sort: spec(
    'bcCdfghik:mMno:rRsS:t:T:uVz',
    [
      'output=',
      'compress-program=',
      'temporary-directory=',
      'random-source=',
      'files0-from=',
      'batch-size=',
      'buffer-size=',
      'field-separator=',
      'key=',
      'parallel=',
      'sort=',
      'check?',
      'debug',
      'reverse',
      'unique',
      'stable',
      'zero-terminated',
      'numeric-sort',
      'general-numeric-sort',
      'human-numeric-sort',
      'month-sort',
      'random-sort',
      'version-sort',
      'ignore-case',
      'ignore-leading-blanks',
      'dictionary-order',
      'ignore-nonprinting',
      'merge',
    ],
    {
      '-o': W,
      '--output': W,
      '-T': ['write', 'writes temporary files into the named directory'],
      '--temporary-directory': ['write', 'writes temporary files into the named directory'],
      '--compress-program': ['exec', 'runs the named program on temporary files'],
    },
  ),
  uniq: spec(
    'cdDf:is:uw:z',
    [
      'skip-fields=',
      'skip-chars=',
      'check-chars=',
      'group?',
      'all-repeated?',
      'count',
      'repeated',
      'ignore-case',
      'unique',
      'zero-terminated',
    ],
    {},
    { operandWrites: [1] },
  ),
  tree: spec(
    'L:P:I:o:H:T:',
    [
      'filelimit=',
      'timefmt=',
      'charset=',
      'sort=',
      'fromfile',
      'gitfile=',
      'infofile=',
      'hintro=',
      'houtro=',
    ],
    {
      '-o': W,
      '-R': ['prompt', 'with -H writes an index file into every directory'],
    },
  ),
  file: spec(
    'bcCe:E:f:F:hiklLm:NnpP:rsSvzZ0',
    [
      'compile',
      'magic-file=',
      'files-from=',
      'separator=',
      'exclude=',
      'exclude-quiet=',
      'parameter=',
      'mime',
      'brief',
    ],
    {
      '-C': ['prompt', 'compiles a magic file and writes the result'],
      '--compile': ['prompt', 'compiles a magic file and writes the result'],
    },
  ),
  less: spec(
    'b:h:j:k:o:O:p:P:t:T:x:y:z:D:#:',
    [
      'log-file=',
      'LOG-FILE=',
      'lesskey-file=',
      'lesskey-src=',
      'lesskey-content=',
      'tag=',
      'tag-file=',
      'pattern=',
      'prompt=',
      'tabs=',
      'shift=',
      'window=',
      'buffers=',
      'max-back-scroll=',
      'jump-target=',
      'max-forw-scroll=',
    ],
    {
      '-o': W,
      '-O': W,
      '--log-file': W,
      '--LOG-FILE': W,
      '-k': ['prompt', 'loads a lesskey file, which can bind keys and set variables'],
      '--lesskey-file': ['prompt', 'loads a lesskey file, which can bind keys and set variables'],
      '--lesskey-src': ['prompt', 'loads a lesskey source file'],
      '--lesskey-content': ['prompt', 'loads lesskey definitions'],
    },
    { plus: 'prompt' },
  ),
  more: spec('n:', ['lines='], {}, { plus: 'prompt' }),
  base64: spec('b:i:o:w:', ['output=', 'input=', 'wrap=', 'break=', 'decode', 'ignore-garbage'], {
    '-o': W,
    '--output': W,
  }),
  rg: spec(
    'A:B:C:E:M:T:d:e:f:g:j:m:r:t:',
    [
      'pre=',
      'pre-glob=',
      'hostname-bin=',
      'search-zip',
      'regexp=',
      'file=',
      'glob=',
      'iglob=',
      'type=',
      'type-not=',
      'type-add=',
      'replace=',
      'max-count=',
      'max-depth=',
      'max-columns=',
      'context=',
      'after-context=',
      'before-context=',
      'encoding=',
      'threads=',
      'ignore-file=',
      'colors=',
      'color=',
      'path-separator=',
      'sort=',
      'sortr=',
      'engine=',
      'dfa-size-limit=',
      'regex-size-limit=',
      'max-filesize=',
      'field-match-separator=',
      'field-context-separator=',
      'context-separator=',
      'hyperlink-format=',
      'generate=',
    ],
    {
      '--pre': ['exec', 'runs a preprocessor program on every file'],
      '--hostname-bin': ['exec', 'runs the named program to get the host name'],
      '-z': ['prompt', 'runs decompression programs found on PATH'],
      '--search-zip': ['prompt', 'runs decompression programs found on PATH'],
    },
  ),
  ag: spec(
    'A:B:C:G:g:m:p:',
    [
      'pager=',
      'search-zip',
      'path-to-ignore=',
      'file-search-regex=',
      'ignore=',
      'depth=',
      'max-count=',
      'context?',
      'after?',
      'before?',
      'color-match=',
      'color-path=',
      'color-line-number=',
      'workers=',
    ],
    {
      '--pager': ['exec', 'pipes output through the named program'],
      '-z': ['prompt', 'reads compressed files'],
      '--search-zip': ['prompt', 'reads compressed files'],
    },
  ),
  fd: spec(
    'd:e:t:E:x:X:c:j:S:o:',
    [
      'exec=',
      'exec-batch=',
      'batch-size=',
      'extension=',
      'type=',
      'exclude=',
      'max-depth=',
      'min-depth=',
      'exact-depth=',
      'color=',
      'threads=',
      'size=',
      'owner=',
      'changed-within=',
      'changed-before=',
      'ignore-file=',
      'base-directory=',
      'path-separator=',
      'search-path=',
      'max-results=',
      'format=',
    ],
    {
      '-x': ['exec', 'runs a command for every result'],
      '-X': ['exec', 'runs a command with the results'],
      '--exec': ['exec', 'runs a command for every result'],
      '--exec-batch': ['exec', 'runs a command with the results'],
    },
  ),
  sed: spec(
    'e:f:i::l:nrsuEzb',
    [
      'expression=',
      'file=',
      'in-place?',
      'line-length=',
      'null-data',
      'zero-terminated',
      'separate',
      'sandbox',
      'debug',
      'posix',
      'regexp-extended',
      'unbuffered',
      'follow-symlinks',
      'silent',
      'quiet',
      'binary',
    ],
    {
      '-e': ['prompt', 'adds a sed script (which may run commands with `e` or write files with `w`)'],
      '--expression': [
        'prompt',
        'adds a sed script (which may run commands with `e` or write files with `w`)',
      ],
      '-f': ['prompt', 'reads a sed script from a file'],
      '--file': ['prompt', 'reads a sed script from a file'],
      '-i': ['prompt', 'edits files in place'],
      '--in-place': ['prompt', 'edits files in place'],
    },
  ),
  git: spec(
    '',
    [
      'output=',
      'ext-diff',
      'textconv',
      'exec=',
      'upload-pack=',
      'receive-pack=',
      'open-files-in-pager?',
      'show-signature',
      'paginate',
      'exec-path?',
      'git-dir=',
      'work-tree=',
      'config-env=',
      'no-pager',
      'text',
      'no-ext-diff',
      'no-textconv',
    ],
    {
      '--output': ['prompt', 'writes its output to a file'],
      '--ext-diff': ['exec', 'runs an external diff program from the configuration'],
      '--textconv': ['exec', 'runs text conversion programs from the configuration'],
      '--exec': ['exec', 'runs a command'],
      '--upload-pack': ['exec', 'runs the named program'],
      '--receive-pack': ['exec', 'runs the named program'],
      '--open-files-in-pager': ['exec', 'runs a pager program'],
      '--show-signature': ['exec', 'runs the gpg program named in the configuration'],
      '--paginate': ['exec', 'runs the configured pager'],
      '--exec-path': ['exec', 'runs git sub-programs from another directory'],
      '--git-dir': ['prompt', 'uses another repository, whose configuration can run programs'],
      '--work-tree': ['prompt', 'uses another work tree'],
      '--config-env': ['exec', 'sets configuration (pager, ssh command, aliases) from the environment'],
    },
  ),
  curl: spec(
    'A:b:c:C:d:D:e:E:F:H:K:m:o:P:Q:r:t:T:u:U:w:x:X:y:Y:z:',
    [
      'output=',
      'output-dir=',
      'dump-header=',
      'cookie-jar=',
      'trace=',
      'trace-ascii=',
      'stderr=',
      'etag-save=',
      'libcurl=',
      'hsts=',
      'alt-svc=',
      'config=',
      'engine=',
      'write-out=',
      'header=',
      'data=',
      'data-binary=',
      'data-raw=',
      'data-urlencode=',
      'form=',
      'user=',
      'user-agent=',
      'request=',
      'url=',
      'proxy=',
      'max-time=',
      'connect-timeout=',
      'retry=',
      'cookie=',
      'referer=',
      'upload-file=',
      'remote-name',
      'remote-name-all',
      'remote-header-name',
      'create-dirs',
      'silent',
      'show-error',
      'location',
      'fail',
      'include',
      'head',
      'insecure',
      'verbose',
      'compressed',
    ],
    {
      ...CURL_WRITES,
      '-O': ['write', 'writes a file named after the URL into the working directory'],
      '--remote-name': ['write', 'writes a file named after the URL into the working directory'],
      '--remote-name-all': ['write', 'writes files named after the URLs into the working directory'],
      '-J': ['write', 'writes a file named by the server into the working directory'],
      '--remote-header-name': ['write', 'writes a file named by the server into the working directory'],
      '-w': ['prompt', 'a write-out format can write files (%output{…})'],
      '--write-out': ['prompt', 'a write-out format can write files (%output{…})'],
    },
  ),
  wget: spec(
    'o:a:O:P:e:i:B:t:T:w:Q:U:l:A:R:D:I:X:',
    [
      'output-file=',
      'append-output=',
      'output-document=',
      'directory-prefix=',
      'execute=',
      'config=',
      'use-askpass=',
      'input-file=',
      'base=',
      'tries=',
      'timeout=',
      'wait=',
      'quota=',
      'user-agent=',
      'level=',
      'accept=',
      'reject=',
      'domains=',
      'include-directories=',
      'exclude-directories=',
      'header=',
      'post-data=',
      'post-file=',
      'user=',
      'password=',
      'quiet',
      'no-verbose',
      'verbose',
      'recursive',
      'mirror',
      'continue',
      'timestamping',
    ],
    {
      '-o': W,
      '--output-file': W,
      '-a': W,
      '--append-output': W,
      '-O': W,
      '--output-document': W,
      '-P': ['write', 'writes downloads into the named directory'],
      '--directory-prefix': ['write', 'writes downloads into the named directory'],
      '-e': ['prompt', 'runs a wgetrc command (which can set output files or programs)'],
      '--execute': ['prompt', 'runs a wgetrc command (which can set output files or programs)'],
      '--config': ['prompt', 'reads a wgetrc file'],
      '--use-askpass': ['exec', 'runs the named program for credentials'],
    },
    { writesCwdUnless: ['-O', '--output-document', '-P', '--directory-prefix', '--spider'] },
  ),
  aria2c: spec(
    'd:o:i:l:s:x:j:',
    [
      'dir=',
      'out=',
      'input-file=',
      'log=',
      'save-session=',
      'conf-path=',
      'split=',
      'max-connection-per-server=',
    ],
    {
      '-d': ['write', 'writes downloads into the named directory'],
      '--dir': ['write', 'writes downloads into the named directory'],
      '-o': W,
      '--out': W,
      '-l': W,
      '--log': W,
      '--save-session': W,
      '--conf-path': ['prompt', 'reads a configuration file (which can set hooks that run programs)'],
      '--on-download-complete': ['exec', 'runs a program when a download completes'],
      '--on-download-error': ['exec', 'runs a program on errors'],
      '--on-download-start': ['exec', 'runs a program when a download starts'],
      '--on-download-stop': ['exec', 'runs a program when a download stops'],
      '--on-download-pause': ['exec', 'runs a program when a download pauses'],
      '--on-bt-download-complete': ['exec', 'runs a program when a download completes'],
    },
    { writesCwdUnless: ['-d', '--dir'] },
  ),
  http: spec(
    'a:A:o:v:',
    [
      'output=',
      'session=',
      'session-read-only=',
      'auth=',
      'auth-type=',
      'download',
      'print=',
      'verify=',
      'cert=',
      'cert-key=',
    ],
    {
      '-o': W,
      '--output': W,
      '--session': ['write', 'writes a session file'],
      '-d': ['write', 'downloads into the working directory'],
      '--download': ['write', 'downloads into the working directory'],
    },
  ),
  lynx: spec(
    '',
    ['dump', 'source', 'width=', 'nolist', 'listonly', 'head', 'mime_header'],
    {},
    { strict: true },
  ),
  links: spec('', ['dump', 'source', 'width=', 'codepage='], {}, { strict: true }),
  nc: spec(
    'e:c:p:s:w:i:q:x:X:I:O:T:V:',
    ['exec=', 'sh-exec=', 'lua-exec=', 'output=', 'append-output', 'hex-dump='],
    {
      '-e': ['exec', 'runs a program connected to the socket'],
      '-c': ['exec', 'runs a shell command connected to the socket'],
      '--exec': ['exec', 'runs a program connected to the socket'],
      '--sh-exec': ['exec', 'runs a shell command connected to the socket'],
      '--lua-exec': ['exec', 'runs a Lua script connected to the socket'],
      '-o': W,
      '--output': W,
      '--hex-dump': W,
    },
  ),
  nmap: spec(
    '',
    ['script=', 'script-args=', 'datadir=', 'resume=', 'servicedb=', 'versiondb=', 'stylesheet='],
    {
      '--script': ['exec', 'runs NSE scripts'],
      '--script-args': ['exec', 'runs NSE scripts'],
      '--datadir': ['prompt', 'loads data and scripts from another directory'],
      '--resume': ['prompt', 'reads a scan state file'],
      '--servicedb': ['prompt', 'loads another service database'],
      '--versiondb': ['prompt', 'loads another version database'],
      '-o': ['write', 'writes scan output to a file'],
    },
  ),
  ssh: spec(
    'B:b:c:D:E:e:F:I:i:J:L:l:m:O:o:P:p:Q:R:S:W:w:',
    [],
    {
      '-o': ['prompt', 'sets options such as ProxyCommand or LocalCommand, which run local programs'],
      '-F': ['prompt', 'reads a configuration file (ProxyCommand, LocalCommand run local programs)'],
      '-E': W,
      '-S': ['prompt', 'uses or creates a control socket'],
      '-I': ['exec', 'loads a PKCS#11 library'],
    },
    { stopAtOperand: true },
  ),
  sftp: spec('B:b:c:D:F:i:J:l:o:P:R:S:X:', [], {
    '-o': ['prompt', 'sets options such as ProxyCommand, which run local programs'],
    '-F': ['prompt', 'reads a configuration file'],
    '-S': ['exec', 'runs the named program as the ssh client'],
    '-D': ['exec', 'runs the named sftp server program locally'],
    '-b': ['prompt', 'runs a batch file (which can run local commands with !)'],
  }),
  scp: spec('c:D:F:i:J:l:o:P:S:X:', [], {
    '-o': ['prompt', 'sets options such as ProxyCommand, which run local programs'],
    '-F': ['prompt', 'reads a configuration file'],
    '-S': ['exec', 'runs the named program as the ssh client'],
    '-D': ['exec', 'runs the named sftp server program locally'],
  }),
  rsync: spec(
    'e:B:f:T:M:',
    [
      'rsh=',
      'rsync-path=',
      'log-file=',
      'write-batch=',
      'only-write-batch=',
      'read-batch=',
      'backup-dir=',
      'temp-dir=',
      'partial-dir=',
      'compare-dest=',
      'copy-dest=',
      'link-dest=',
      'config=',
      'daemon',
      'files-from=',
      'password-file=',
      'remove-source-files',
      'filter=',
      'exclude=',
      'include=',
      'exclude-from=',
      'include-from=',
      'chmod=',
      'chown=',
      'usermap=',
      'groupmap=',
      'suffix=',
      'max-size=',
      'min-size=',
      'bwlimit=',
      'timeout=',
      'port=',
      'out-format=',
      'log-file-format=',
      'info=',
      'debug=',
    ],
    {
      '-e': ['exec', 'runs the named remote shell program'],
      '--rsh': ['exec', 'runs the named remote shell program'],
      '--rsync-path': ['exec', 'runs the named program'],
      '--log-file': W,
      '--write-batch': W,
      '--only-write-batch': W,
      '--read-batch': ['prompt', 'applies a batch file'],
      '--backup-dir': W,
      '-T': W,
      '--temp-dir': W,
      '--partial-dir': W,
      '--config': ['prompt', 'reads a daemon configuration file'],
      '--daemon': ['prompt', 'starts an rsync daemon'],
      '--remove-source-files': ['prompt', 'deletes the source files'],
    },
  ),
  mosh: spec('p:', ['ssh=', 'client=', 'server=', 'predict=', 'port='], {
    '--ssh': ['exec', 'runs the named ssh program'],
    '--client': ['exec', 'runs the named client program'],
    '--server': ['exec', 'runs the named server program'],
  }),
  cp: CP_LIKE('last', ''),
  mv: CP_LIKE('all', ''),
  ln: CP_LIKE('last', ''),
  install: CP_LIKE('last', 'm:o:g:'),
  xxd: spec(
    '',
    [],
    {},
    {
      words: [
        '-c=',
        '-cols=',
        '-g=',
        '-groupsize=',
        '-l=',
        '-len=',
        '-o=',
        '-offset=',
        '-s=',
        '-seek=',
        '-n=',
        '-name=',
      ],
      operandWrites: [1],
    },
  ),
  find: spec(
    'D:O::HLP',
    [],
    {
      '-exec': ['exec', 'runs a command for every file'],
      '-execdir': ['exec', 'runs a command for every file'],
      '-ok': ['exec', 'runs a command for every file'],
      '-okdir': ['exec', 'runs a command for every file'],
      '-delete': ['prompt', 'deletes files'],
      '-fprint': W,
      '-fprint0': W,
      '-fprintf': W,
      '-fls': W,
    },
    {
      words: [
        '-exec',
        '-execdir',
        '-ok',
        '-okdir',
        '-delete',
        '-fprint=',
        '-fprint0=',
        '-fprintf=',
        '-fls=',
        '-files0-from=',
      ],
    },
  ),
};
TOOLS.ncat = TOOLS.nc!;
TOOLS.netcat = TOOLS.nc!;
TOOLS.https = TOOLS.http!;
TOOLS.fdfind = TOOLS.fd!;

/** Wrappers: options stop at the first operand, which starts the wrapped command. */
export const WRAPPER_SPECS: Record<string, ToolSpec & { readonly skipOperands?: number }> = {
  env: spec(
    'iu:C:S:v0P:a:',
    [
      'ignore-environment',
      'null',
      'unset=',
      'chdir=',
      'split-string=',
      'block-signal?',
      'default-signal?',
      'ignore-signal?',
      'list-signal-handling',
      'debug',
      'argv0=',
    ],
    {
      '-S': ['exec', 'splits a string into a command the engine does not parse'],
      '--split-string': ['exec', 'splits a string into a command the engine does not parse'],
      '-C': ['prompt', 'runs the command in another directory'],
      '--chdir': ['prompt', 'runs the command in another directory'],
      '-P': ['prompt', 'searches another PATH for the command'],
      '-a': ['prompt', 'runs the command under another name'],
      '--argv0': ['prompt', 'runs the command under another name'],
    },
    { stopAtOperand: true },
  ),
  xargs: spec(
    '0a:d:E:e::I:i::L:l::n:oprP:s:tx',
    [
      'null',
      'arg-file=',
      'delimiter=',
      'eof?',
      'replace?',
      'max-lines?',
      'max-args=',
      'max-procs=',
      'max-chars=',
      'interactive',
      'no-run-if-empty',
      'verbose',
      'exit',
      'open-tty',
      'show-limits',
      'process-slot-var=',
    ],
    {
      '--process-slot-var': ['prompt', 'sets an environment variable of the command (BASH_ENV=… loads code)'],
    },
    { stopAtOperand: true },
  ),
  timeout: Object.assign(
    spec(
      'k:s:v',
      ['kill-after=', 'signal=', 'preserve-status', 'foreground', 'verbose'],
      {},
      { stopAtOperand: true },
    ),
    { skipOperands: 1 },
  ),
  nice: spec('n:', ['adjustment='], {}, { stopAtOperand: true }),
  stdbuf: spec('i:o:e:', ['input=', 'output=', 'error='], {}, { stopAtOperand: true }),
  time: spec(
    'f:o:apqvV',
    ['format=', 'output=', 'append', 'portability', 'quiet', 'verbose'],
    { '-o': W, '--output': W },
    { stopAtOperand: true },
  ),
  nohup: spec('', [], {}, { stopAtOperand: true }),
  command: spec(
    'pvV',
    [],
    {
      '-p': ['prompt', 'searches a default PATH'],
    },
    { stopAtOperand: true },
  ),
  builtin: spec('', [], {}, { stopAtOperand: true }),
  exec: spec(
    'a:cl',
    [],
    { '-a': ['prompt', 'runs the command under another name'] },
    { stopAtOperand: true },
  ),
};

export interface OptionFinding {
  readonly effect: Effect;
  readonly reason: string;
  /** Index of the word (in the analysed argv) that carries the option. */
  readonly index: number;
  /** For `write` / `name`: the value. */
  readonly value?: Word;
}

export interface OptionAnalysis {
  readonly findings: OptionFinding[];
  /** Indexes of operand words. */
  readonly operands: number[];
  /** Index of the first operand (wrappers: where the wrapped command starts), or argv length. */
  readonly firstOperand: number;
  /** Options seen (normalised: `-x` or `--full-name`). */
  readonly seen: Set<string>;
}

export function toolSpec(name: string): ToolSpec | undefined {
  return Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
}

const NONE: readonly (readonly [string, Opt])[] = [];

const CWD: Word = { value: '.', literal: true, tilde: false, source: '.' };

const LITERAL_VALUE = (value: string, of: Word): Word => ({
  value,
  literal: of.literal,
  tilde: value.startsWith('~'),
  source: value,
});

/**
 * Reads `words` (words[0] is the command name) with `spec` as the tool's parser would, and reports
 * every option with an effect. Unknown long options match every option they abbreviate
 * (conservatively, even when ambiguous); a value that itself looks like a dangerous option is
 * reported too, in case the table mistook a flag for an option with a value.
 */
export function analyseOptions(tool: string, spec: ToolSpec, words: readonly Word[]): OptionAnalysis {
  const findings: OptionFinding[] = [];
  const operands: number[] = [];
  const seen = new Set<string>();
  let firstOperand = words.length;
  let endOfOptions = false;
  const hit = (opt: Opt, shown: string, index: number, value?: Word) => {
    if (!opt.effect) return;
    const reason = `${tool} ${shown} ${opt.why ?? EFFECT_TEXT[opt.effect]}`;
    // A writing option without a value (curl -O, httpie --download) writes into the working directory.
    if (opt.effect === 'write' && !opt.arg && value === undefined) value = CWD;
    if ((opt.effect === 'write' || opt.effect === 'name') && value === undefined) {
      findings.push({ effect: 'prompt', reason: `${reason} (value not found)`, index });
      return;
    }
    findings.push({ effect: opt.effect, reason, index, ...(value ? { value } : {}) });
  };
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
    if (endOfOptions || !w.literal || v === '-' || !(v.startsWith('-') || (spec.plus && v.startsWith('+')))) {
      if (!w.literal && !endOfOptions && /^["']?-/.test(w.source)) {
        findings.push({ effect: 'prompt', reason: `${tool}: option ${w.source} is not literal`, index: i });
      }
      operands.push(i);
      if (firstOperand === words.length) firstOperand = i;
      if (spec.stopAtOperand) {
        endOfOptions = true;
        if (operands.length === 1) break;
      }
      continue;
    }
    if (v.startsWith('+')) {
      findings.push({
        effect: 'exec',
        reason: `${tool} ${v}: a + option runs commands at start-up`,
        index: i,
      });
      continue;
    }
    if (v === '--') {
      endOfOptions = true;
      continue;
    }
    if (spec.words) {
      const eq = v.indexOf('=');
      const opt = spec.words.get(v) ?? (eq > 0 ? undefined : undefined);
      if (opt) {
        seen.add(v);
        let value: Word | undefined;
        if (opt.arg === 'required') {
          value = words[i + 1];
          i++;
        }
        hit(opt, v, i, value);
        continue;
      }
      const glued = [...spec.words.keys()].find(
        (k) => spec.words!.get(k)!.arg && v.startsWith(k) && /^-[a-z]$/.test(k),
      );
      if (glued || tool === 'find' || tool === 'xxd') continue; // find tests/actions, xxd -c8
    }
    if (v.startsWith('--')) {
      const eq = v.indexOf('=');
      const name = eq === -1 ? v.slice(2) : v.slice(2, eq);
      const exact = spec.long.get(name);
      const candidates = exact ? [[name, exact] as const] : (spec.prefixes?.get(name) ?? NONE);
      if (candidates.length === 0) {
        if (spec.strict)
          findings.push({ effect: 'prompt', reason: `${tool} ${v} is not a known safe option`, index: i });
        continue;
      }
      let value: Word | undefined;
      if (eq !== -1) value = LITERAL_VALUE(v.slice(eq + 1), w);
      else if (candidates.length === 1 && candidates[0]![1].arg === 'required' && i + 1 < words.length) {
        value = words[i + 1];
        i++;
      }
      for (const [k, opt] of candidates) {
        seen.add(`--${k}`);
        hit(opt, v === `--${k}` || eq !== -1 ? v : `${v} (--${k})`, i, value);
      }
      continue;
    }
    if (/^-[0-9]+$/.test(v) && tool !== 'find') continue; // -5 (head/nice style numbers)
    // A cluster of short options.
    for (let j = 1; j < v.length; j++) {
      const letter = v[j]!;
      const opt = spec.short.get(letter);
      if (!opt) {
        if (spec.strict)
          findings.push({
            effect: 'prompt',
            reason: `${tool} -${letter} is not a known safe option`,
            index: i,
          });
        continue;
      }
      seen.add(`-${letter}`);
      if (opt.arg) {
        let value: Word | undefined;
        if (j + 1 < v.length) value = LITERAL_VALUE(v.slice(j + 1), w);
        else if (opt.arg === 'required' && i + 1 < words.length) {
          value = words[i + 1];
          i++;
          // Paranoid: a value that looks like a dangerous option may be one (wrong table entry).
          if (value?.literal && value.value.startsWith('-')) paranoid(tool, spec, value.value, i, findings);
        }
        hit(opt, `-${letter}`, i, value);
        break;
      }
      hit(opt, `-${letter}`, i);
    }
  }
  return { findings, operands, firstOperand, seen };
}

function paranoid(tool: string, spec: ToolSpec, v: string, index: number, findings: OptionFinding[]): void {
  const risky = (opt: Opt | undefined) => opt?.effect !== undefined;
  if (v.startsWith('--')) {
    const name = v.slice(2).split('=')[0]!;
    if ([...spec.long].some(([k, o]) => name.length > 0 && k.startsWith(name) && risky(o)))
      findings.push({ effect: 'prompt', reason: `${tool}: ${v} may be read as a dangerous option`, index });
    return;
  }
  for (const letter of v.slice(1)) {
    if (risky(spec.short.get(letter))) {
      findings.push({ effect: 'prompt', reason: `${tool}: ${v} may be read as a dangerous option`, index });
      return;
    }
  }
}

const EFFECT_TEXT: Record<Effect, string> = {
  exec: 'runs a program the engine does not see',
  write: 'writes the file named by its value',
  prompt: 'needs confirmation',
  name: 'assigns the named variable',
};
