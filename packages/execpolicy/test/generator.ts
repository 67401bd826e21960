// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are bash, where ${…} is parameter expansion
import fc from 'fast-check';

/**
 * A grammar of bash built from the tools the default policy allows, their risky options, every
 * expansion construct, redirects, environment prefixes and connectors. File operands point inside
 * the workspace, at its parent, at the home directory (with a fake ~/.ssh) and at /tmp, so both
 * "runs something unseen" and "writes outside the roots" are reachable.
 */
const OPERANDS = [
  'a.txt',
  'sub/b.txt',
  'sub',
  '.',
  'out.txt',
  '../escape',
  '~/x',
  '~/.ssh/id_rsa',
  '/tmp/x',
  '"$HOME"/x',
  'rc',
  'script.sh',
  '-',
];

/** [command, options it may take]; options may carry their own operands. */
const TOOLS: readonly [string, readonly string[]][] = [
  ['ls', ['-la', '-R', '--color=never']],
  ['cat', ['-n', '-A']],
  ['head', ['-n 1', '-c 3']],
  ['tail', ['-n 1']],
  ['wc', ['-l', '-c']],
  ['grep', ['-rn', '-i', '-e alpha', 'alpha']],
  [
    'rg',
    [
      '-n',
      'alpha',
      '--pre=uptime',
      '--pre uptime',
      '--hostname-bin=uptime',
      '--hostname-bin uptime',
      '-z',
      '--pr=uptime',
    ],
  ],
  [
    'find',
    [
      '-name a.txt',
      '-type f',
      '-exec uptime \\;',
      '-execdir uptime +',
      '-delete',
      '-fprint ../escape',
      '-fprintf ../escape %p',
    ],
  ],
  [
    'sort',
    [
      '-u',
      '-o out.txt',
      '-o ../escape',
      '-uo../escape',
      '--output=../escape',
      '--out=../escape',
      '--compress-program=uptime',
      '--comp=uptime',
      '-T ..',
    ],
  ],
  ['uniq', ['-c', '-f 1']],
  [
    'sed',
    [
      '-n 1p',
      "-n '1e uptime'",
      "-n '1w ../escape'",
      '-i s/a/b/',
      '--in-place=.bak s/a/b/',
      "--expr='1e uptime'",
      '-ni 1p',
    ],
  ],
  ['echo', ['hello', '-n x']],
  ['printf', ['%s x', '-v v %s x', '-v PATH %s /nope', "-v 'a[$(uptime)]' %s 1"]],
  [
    'git',
    [
      'status',
      'log',
      '-p log',
      '-c core.pager=uptime log',
      'log --output=../escape',
      'log --outp=../escape',
      'diff --ext-diff',
      'branch -D main',
    ],
  ],
  ['date', ['+%s', '-s 2020-01-01', '--set=2020-01-01', '--se=x']],
  ['base64', ['-w 0', '-o ../escape', '--output=../escape']],
  ['xxd', ['-c 8', '-r']],
  ['tree', ['-L 1', '-o ../escape', '-R']],
  ['file', ['-b', '-C -m a.txt']],
  ['stat', ['-c %s']],
  ['du', ['-sh']],
  ['cut', ['-c1']],
  ['tr', ['a b']],
  ['touch', ['-c']],
  ['mkdir', ['-p']],
  ['rm', ['-f', '-rf']],
  ['cp', ['-r', '-t ..', '--target-directory=..', '--t=..']],
  ['mv', ['-f']],
  ['tee', ['-a']],
  ['ln', ['-s', '-sf']],
  [
    'env',
    [
      '-i',
      'FOO=1',
      'RIPGREP_CONFIG_PATH=./rc',
      'BASH_ENV=./script.sh',
      '-S uptime',
      '--split-string=uptime',
      '--s=uptime',
      '-C ..',
    ],
  ],
  ['xargs', ['-n 1', '-I{}', '--process-slot-var=BASH_ENV', '--process=BASH_ENV']],
  ['timeout', ['1', '-s KILL 1', '--sig KILL 1']],
  ['nice', ['-n 1', '-5']],
  ['command', ['-v', '-p']],
  ['time', ['-p', '-o ../escape']],
  ['test', ['-f a.txt', "-v 'a[$(uptime)]'", '-v PATH']],
  ['read', ['-r line', "'a[$(uptime)]'", 'PATH', '-a BASH_ENV']],
  ['declare', ['-a x', '-n r=PATH', '-i n=a', 'x=1', '"PATH=/nope"', '-x FOO=1']],
  ['export', ['FOO=1', 'GIT_PAGER=uptime', 'PATH=/nope']],
  ['cd', ['sub', '..', '~', '~/.ssh', '/tmp']],
  ['true', []],
  ['hash', ['-p /usr/bin/uptime ls', '-r']],
  ['less', ['+!uptime', '-o ../escape', '--log-file=../escape']],
  ['uptime', []],
  ['./script.sh', []],
  ['bash', ['-c uptime', "-c 'ls; uptime'", 'script.sh']],
];

const INNER = ['uptime', 'ls', 'cat a.txt', 'echo hi', 'rm -rf ~', 'touch ../escape', 'id'];

/** Expansion constructs wrapping an inner command (C) or a variable. */
const EXPANSIONS = [
  (c: string) => `$(${c})`,
  (c: string) => `\`${c}\``,
  (c: string) => `"$(${c})"`,
  (c: string) => `<(${c})`,
  () => '$((1+2))',
  () => '$((a))',
  () => '$[a]',
  () => '${a[i]}',
  (c: string) => `\${a:-$(${c})}`,
  () => '${!a}',
  () => '${a@P}',
  () => '"$a"',
  () => '$HOME',
  () => '~',
];

const STATEMENT_PREFIXES = [
  '',
  '',
  '',
  "a='x[$(uptime)]'; ",
  'a=1; ',
  'LC_ALL=C ',
  'RIPGREP_CONFIG_PATH=./rc ',
  'BASH_ENV=./script.sh ',
  'GIT_CONFIG_GLOBAL=~/.gitconfig ',
  'HOME=. ',
];
const REDIRECTS = [
  '',
  '',
  '',
  ' > out.txt',
  ' > ../escape',
  ' >> ~/.bashrc',
  ' 2>/dev/null',
  ' < a.txt',
  ' < ~/.ssh/id_rsa',
  ' > /tmp/x',
];
const CONNECTORS = [' && ', ' || ', '; ', ' | ', '\n'];
const WRAPS = [
  (s: string) => s,
  (s: string) => s,
  (s: string) => `( ${s} )`,
  (s: string) => `{ ${s}; }`,
  (s: string) => `if true; then ${s}; fi`,
  (s: string) => `for f in a.txt; do ${s}; done`,
  (s: string) => `x[$(${s})]=1`,
  (s: string) => `(( $(${s}) ))`,
  (s: string) => `[[ $(${s}) == x ]]`,
  (s: string) => `cat <<EOF\n$(${s})\nEOF`,
];

const SAFE_OPERANDS = ['a.txt', 'sub/b.txt', 'sub', '.', 'out.txt'];
const SAFE_INNER = ['ls', 'cat a.txt', 'echo hi', 'date', 'pwd'];
const SAFE_PREFIXES = [''];
const SAFE_REDIRECTS = ['', ' > out.txt', ' 2>/dev/null', ' < a.txt', ' >> out.txt'];
const SAFE_WRAPS = [(s: string) => s, (s: string) => `( ${s} )`, (s: string) => `{ ${s}; }`];

/** Mostly the safe half of a list, sometimes anything (so about a third of scripts are allowed). */
const mostly = <T>(safe: readonly T[], all: readonly T[], riskyWeight = 1): fc.Arbitrary<T> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...safe), weight: 6 },
    { arbitrary: fc.constantFrom(...all), weight: riskyWeight },
  );

const SAFE_TOOLS = TOOLS.filter(
  ([t]) => !['uptime', './script.sh', 'bash', 'hash', 'less', 'env', 'xargs'].includes(t),
);

const simple: fc.Arbitrary<string> = fc
  .tuple(
    mostly(SAFE_PREFIXES, STATEMENT_PREFIXES),
    mostly(SAFE_TOOLS, TOOLS),
    fc.nat(),
    fc.array(mostly(SAFE_OPERANDS, OPERANDS), { maxLength: 2 }),
    fc.option(fc.tuple(mostly(EXPANSIONS.slice(0, 5), EXPANSIONS), mostly(SAFE_INNER, INNER)), { freq: 4 }),
    mostly(SAFE_REDIRECTS, REDIRECTS),
  )
  .map(([prefix, [tool, options], pick, operands, expansion, redirect]) => {
    const opts = options.length > 0 && pick % 3 !== 0 ? [options[pick % options.length]!] : [];
    const words = [tool, ...opts, ...operands];
    if (expansion) words.push(expansion[0](expansion[1]));
    return `${prefix}${words.join(' ')}${redirect}`;
  });

/** A script of one to four statements. */
export const script: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.tuple(simple, mostly(SAFE_WRAPS, WRAPS)), { minLength: 1, maxLength: 4 }),
    fc.array(fc.constantFrom(...CONNECTORS), { minLength: 3, maxLength: 3 }),
  )
  .map(([parts, connectors]) =>
    parts.map(([s, wrap], i) => (i === 0 ? '' : connectors[i - 1]) + wrap(s)).join(''),
  );
