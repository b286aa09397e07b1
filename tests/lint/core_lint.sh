#!/bin/sh
# Structural rules of the core that the compiler does not check by itself.
#   core_lint.sh ROOT RULE
# RULE atomic-counts: counts that other CPUs change without a common lock
#   (ref_count, shadow_count, map_count, an address space's users) are never
#   updated with a plain ++, -- or assignment (their type, vm::Atomic, has
#   no such operators; this catches a field that lost it).
# RULE object-lifetime: only vm_object.cpp creates and frees objects: no other
#   file of the core touches Vm::all_objects except the audit, which reads it.
set -u
root=$1 rule=$2
case $rule in
  atomic-counts)
    fields='(ref_count|shadow_count|map_count|holds|users)'
    hits=$(grep -rnE "(\+\+|--)[[:space:]]*[A-Za-z_>.-]*$fields\b|\b$fields[[:space:]]*(\+\+|--|[-+]?=[^=])" \
      "$root/core" --include='*.cpp' --include='*.hpp')
    ;;
  object-lifetime)
    hits=$(grep -rn 'all_objects\b' "$root/core" --include='*.cpp' --include='*.hpp' |
      grep -v -e '^[^:]*core/vm/vm_object\.cpp:' -e '^[^:]*core/vm/vm\.hpp:' \
        -e '^[^:]*core/sys/audit\.cpp:.*all_objects\.\(front\|next\)' -e '//.*all_objects')
    ;;
  *)
    echo "core_lint.sh: unknown rule $rule" >&2
    exit 2
    ;;
esac
if [ -n "$hits" ]; then
  echo "core_lint.sh: $rule broken at:" >&2
  echo "$hits" >&2
  exit 1
fi
exit 0
