#!/bin/sh
# `//bench:flops --smoke --out=<a folder that does not exist yet>` creates the folder and writes its JSON and
# Markdown there (issue 21: it used to measure, then fail to write); an --out that cannot be created fails at once,
# before any measuring.
set -u
bin="$1"
out="${TEST_TMPDIR:-/tmp}/flops_out/new/nested"
rm -rf "${TEST_TMPDIR:-/tmp}/flops_out"
"$bin" --smoke --out="$out" > "${TEST_TMPDIR:-/tmp}/flops_out.log" 2>&1 || { echo "FAIL: flops --smoke --out=$out failed"; cat "${TEST_TMPDIR:-/tmp}/flops_out.log"; exit 1; }
ls "$out"/*.json "$out"/*.md > /dev/null 2>&1 || { echo "FAIL: no JSON/Markdown in $out"; ls -la "$out"; exit 1; }
blocker="${TEST_TMPDIR:-/tmp}/flops_out/a_file"
: > "$blocker"
if msg=$("$bin" --smoke --out="$blocker/sub" 2>&1); then echo "FAIL: an --out under a plain file was accepted"; exit 1; fi
echo "$msg" | grep -q -- "--out=" || { echo "FAIL: the error does not name --out: $msg"; exit 1; }
echo "$msg" | grep -q "== density" && { echo "FAIL: it measured before failing on --out"; exit 1; }
# --plot runs gnuplot without a shell: an --out holding a quote and a semicolon (which a shell command line built
# from it would have split) still gets its two PNGs, and nothing else runs.
quoted="${TEST_TMPDIR:-/tmp}/flops_out/it's; touch pwned"
"$bin" --smoke --plot --out="$quoted" > "${TEST_TMPDIR:-/tmp}/flops_plot.log" 2>&1 || {
  echo "FAIL: flops --smoke --plot --out=\"$quoted\" failed"; cat "${TEST_TMPDIR:-/tmp}/flops_plot.log"; exit 1; }
n=$(ls "$quoted"/*.png 2>/dev/null | wc -l)
[ "$n" -eq 2 ] || { echo "FAIL: expected 2 PNGs in $quoted, found $n"; cat "${TEST_TMPDIR:-/tmp}/flops_plot.log"; exit 1; }
[ ! -e pwned ] && [ ! -e "${TEST_TMPDIR:-/tmp}/flops_out/pwned" ] || { echo "FAIL: text of --out ran as a command"; exit 1; }
echo "flops --out checks passed"
