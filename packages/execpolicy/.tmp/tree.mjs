import { Parser, Language } from 'web-tree-sitter';
import { readFileSync } from 'node:fs';
await Parser.init();
const lang = await Language.load(readFileSync('node_modules/tree-sitter-bash/tree-sitter-bash.wasm'));
const p = new Parser(); p.setLanguage(lang);
for (const s of process.argv.slice(2)) { const t = p.parse(s); console.log(s, '\n  ', t.rootNode.toString()); }
