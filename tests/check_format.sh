#!/bin/sh
# Fails when a C++ source differs from clang-format's output (.clang-format: Google base,
# 100 columns). Fix with: clang-format -i FILE...
root=${1:-.}
cd "$root" || exit 2
files=$(find events snapshots actors adapters server tools bench tests \
          \( -name '*.h' -o -name '*.cpp' \) -not -path '*/node_modules/*' 2>/dev/null)
if clang-format --dry-run --Werror $files; then
  echo "format: ok ($(echo "$files" | wc -l) files)"
else
  echo "format: run clang-format -i on the files above"
  exit 1
fi
