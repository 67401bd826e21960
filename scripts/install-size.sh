#!/bin/bash
# Packs every public @codex/* package of the tree $1 and installs @codex/cli alone from those
# tarballs (the others only resolve its @codex/* dependencies) with npm; prints the size.
set -e
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
rm -rf /tmp/packs /tmp/inst && mkdir -p /tmp/packs /tmp/inst
for d in $root/packages/* $root/apps/cli; do
  grep -q '"private": true' $d/package.json && continue
  (cd $d && pnpm pack --pack-destination /tmp/packs >/dev/null 2>&1) || echo "pack failed: $d"
done
node -e '
const fs=require("fs"); const files=fs.readdirSync("/tmp/packs");
const ov={}; let cli;
for (const f of files){ const m=f.match(/^codex-(.+)-\d+\.\d+\.\d+\.tgz$/); if(!m) continue; const spec="file:/tmp/packs/"+f; if(m[1]==="cli") cli=spec; ov["@codex/"+m[1]]=spec; }
fs.writeFileSync("/tmp/inst/package.json", JSON.stringify({name:"inst",private:true,dependencies:{"@codex/cli":cli},overrides:ov},null,2));'
cd /tmp/inst
npm install --no-audit --no-fund --omit=dev > /tmp/inst.log 2>&1 || { tail /tmp/inst.log; exit 1; }
echo "packages: $(ls -d node_modules/* node_modules/@*/* | grep -v '^node_modules/@[^/]*$' | wc -l)"
du -sh node_modules
{ du -s node_modules/[!@]* ; du -s node_modules/@*/*; } 2>/dev/null | sort -rn | head -${2:-12}
