#!/bin/sh
# Run each host unit-test binary; print one total line; fail if any failed.
set -u
pass=0 fail=0 status=0
for t in "$@"; do
	out=$(UNIT_NAME=$(basename "$t") "$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$line" ] || { p=0; f=1; echo "$t: crashed (exit $rc) before reporting"; }
	[ "$rc" -eq 0 ] || status=1
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
exit $status
