import { Parser, Language } from 'web-tree-sitter';
import { readFileSync } from 'node:fs';
await Parser.init();
const lang = await Language.load(readFileSync('node_modules/tree-sitter-bash/tree-sitter-bash.wasm'));
const p = new Parser(); p.setLanguage(lang);
const script = (i) => `git status --short && ls -la src/${i} | wc -l; cat package.json | grep "name" > out/${i}.txt; echo $(date) ${i}`;
let t=performance.now(); const N=20000;
for (let i=0;i<N;i++){ const tr=p.parse(script(i)); tr.delete(); }
console.log('parse µs', (performance.now()-t)*1000/N);
t=performance.now();
for (let i=0;i<N;i++){ const tr=p.parse(script(i)); const c=tr.walk(); let n=0; 
 // full traversal with cursor
 let more=true; while(more){ n++; if(c.gotoFirstChild()) continue; while(!c.gotoNextSibling()){ if(!c.gotoParent()){more=false;break;} } }
 c.delete(); tr.delete(); }
console.log('parse+cursor walk µs', (performance.now()-t)*1000/N);
