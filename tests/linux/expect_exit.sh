#!/bin/sh
# Runs a command; passes when it exits with CODE and its output (stdout and
# stderr) matches the extended regular expression REGEX.
# usage: expect_exit.sh CODE REGEX COMMAND [ARG...]
code=$1 regex=$2
shift 2
[ "$(id -u)" = 0 ] || { echo "skipped: vmsim linux needs root"; exit 77; }
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" = "$code" ] || { echo "expected exit $code, got $rc"; exit 1; }
printf '%s\n' "$out" | grep -Eq -- "$regex" || { echo "output does not match: $regex"; exit 1; }
