import { readdirSync, readFileSync, statSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { TREE_SITTER_BASH_VERSION, WEB_TREE_SITTER_VERSION } from '../src/index.js';

const srcDir = new URL('../src/', import.meta.url);

function sourceFiles(dir: URL): URL[] {
  return readdirSync(dir).flatMap((name) => {
    const url = new URL(name, dir);
    if (statSync(url).isDirectory()) return name === 'generated' ? [] : sourceFiles(new URL(`${name}/`, dir));
    return [url];
  });
}

describe('portability: runs outside Node', () => {
  it('src has no node: imports and no Node globals (checked on the TypeScript AST, not by grep)', () => {
    const files = sourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(5);
    const NODE_GLOBALS = new Set([
      'process',
      'Buffer',
      'require',
      '__dirname',
      '__filename',
      'global',
      'setImmediate',
    ]);
    const problems: string[] = [];
    for (const file of files) {
      const sf = ts.createSourceFile(file.pathname, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node): void => {
        if (
          (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
          node.moduleSpecifier &&
          ts.isStringLiteral(node.moduleSpecifier)
        ) {
          const spec = node.moduleSpecifier.text;
          if (
            spec.startsWith('node:') ||
            ['fs', 'path', 'os', 'child_process', 'module', 'url', 'crypto'].includes(spec)
          ) {
            problems.push(`${file.pathname}: imports ${spec}`);
          }
        }
        if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text)) {
          const parent = node.parent;
          const isMember = parent && ts.isPropertyAccessExpression(parent) && parent.name === node;
          const isKey = parent && ts.isPropertyAssignment(parent) && parent.name === node;
          if (!isMember && !isKey)
            problems.push(
              `${file.pathname}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}: uses ${node.text}`,
            );
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
    expect(problems).toEqual([]);
  });

  it('pins ABI-compatible parser versions and embeds exactly those', () => {
    expect(pkg.dependencies['web-tree-sitter']).toBe(WEB_TREE_SITTER_VERSION);
    expect(pkg.devDependencies['tree-sitter-bash']).toBe(TREE_SITTER_BASH_VERSION);
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@codex/security-profile', 'web-tree-sitter']);
  });

  it('bundled for the browser (esbuild, platform=browser), evaluate runs in a vm context without require or process', async () => {
    const out = await build({
      entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'ExecPolicy',
      write: false,
      // web-tree-sitter's Node-only branches (taken only when `process.versions.node` exists).
      external: ['module', 'fs/promises'],
      logLevel: 'error',
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(["']node:/);
    // Only what a browser or an editor webview provides: no require, process, Buffer, fetch, or file system.
    const sandbox: Record<string, unknown> = { TextDecoder, TextEncoder, console };
    runInNewContext(
      `${code}
      globalThis.done = (async () => {
        if (typeof require !== 'undefined' || typeof process !== 'undefined' || typeof Buffer !== 'undefined' || typeof fetch !== 'undefined') {
          throw new Error('not a bare context');
        }
        const engine = await ExecPolicy.createPolicyEngine();
        const c = { profile: 'workspace-write', cwd: '/w' };
        return {
          safe: engine.evaluate(['bash', '-lc', 'git status && ls | wc -l'], c).decision,
          net: engine.evaluate({ script: 'curl https://example.com' }, c).decision,
          write: engine.evaluate({ script: 'echo x > /etc/hosts' }, c).decision,
          broken: engine.evaluate({ script: 'echo "oops' }, c).decision,
          viaHelper: (await ExecPolicy.evaluate({ script: 'sudo ls' }, c)).decision,
        };
      })();`,
      sandbox,
    );
    await expect(sandbox.done).resolves.toEqual({
      safe: 'allow',
      net: 'prompt',
      write: 'forbidden',
      broken: 'prompt',
      viaHelper: 'forbidden',
    });
  });
});
