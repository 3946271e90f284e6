#!/usr/bin/env bash
# ctest cli_torch_free: w2v itself does not load LibTorch (issue 18.3); model commands are handed
# to w2v-model with their arguments, stdio and exit code; a missing w2v-model is one clear line.
#   tests/cli/test_torch_free.sh BUILD_DIR
set -uo pipefail
build=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

# The dynamic section, not ldd: ldd also lists what a dependency pulls in.
if readelf -d "$build/w2v" | grep -E 'NEEDED.*(torch|c10)'; then fail "w2v links LibTorch"; fi
readelf -d "$build/w2v-model" | grep 'NEEDED.*torch' >/dev/null || fail "w2v-model does not link LibTorch (test is stale?)"

# At run time no library w2v loads (directly or through its dependencies) is LibTorch.
loaded=$(LD_DEBUG=libs "$build/w2v" wer --help 2>&1 >/dev/null | grep -o 'calling init: [^ ]*')
[ -n "$loaded" ] || fail "LD_DEBUG shows no libraries (test is stale?)"
if grep -E 'torch|c10' <<<"$loaded"; then fail "w2v wer loads LibTorch"; fi

"$build/w2v" --version | grep '^w2v ' >/dev/null || fail "--version"
help=$("$build/w2v" --help) || fail "--help exited non-zero"
for c in align export extract import infer info pseudo-label serve train transcribe decode tune lm wer manifest; do
  grep -q "^  $c " <<<"$help" || fail "--help does not list $c"
done

# Hand-off: the model command's own usage error (exit 2) and help come back unchanged.
"$build/w2v" info >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "'w2v info' without MODEL exited $rc, expected the usage error 2"
"$build/w2v" transcribe --help | grep -- '--precision' >/dev/null || fail "transcribe --help is not w2v-model's"
err=$("$build/w2v" info /nonexistent.pt 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q '/nonexistent.pt' <<<"$err" || fail "info on a missing file: rc $rc, '$err'"

# Without w2v-model beside it, a model command fails with one line naming the path.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp "$build/w2v" "$tmp/w2v"
err=$("$tmp/w2v" info x.pt 2>&1); rc=$?
[ $rc -eq 1 ] || fail "missing w2v-model: exit $rc"
[ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "$tmp/w2v-model" <<<"$err" || fail "missing w2v-model: '$err'"
"$tmp/w2v" lm --help >/dev/null || fail "a torch-free command needs w2v-model"
echo "cli_torch_free: w2v loads no LibTorch; model commands run in w2v-model"
