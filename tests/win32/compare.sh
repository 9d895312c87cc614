#!/bin/sh
# compare.sh GOLDEN COMMAND...: runs a Win32 scenario and compares its trace
# (stdout, line endings normalised) with the golden file. stderr (Wine's
# documented exceptions) passes through, not compared.
golden=$1
shift
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
"$@" > "$raw"
status=$?
if ! tr -d '\r' < "$raw" | diff -u "$golden" -; then
  echo "compare.sh: the trace of $* differs from $golden" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "compare.sh: $* exited with $status" >&2
  exit 1
fi
echo "trace matches $golden"
