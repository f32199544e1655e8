#!/usr/bin/env bash
# Runs every fuzz target in the repository, one at a time, for FUZZTIME each
# (default 20s), and fails if any of them finds a crasher. A crasher is
# written by go test to <package>/testdata/fuzz/<target>/<hash>: commit it
# with the fix, so it stays a regression seed.
#
#   FUZZTIME=20s .ci/fuzz.sh            every target
#   FUZZ_ONLY='Cookie|URL' .ci/fuzz.sh  only targets whose name matches
#
# FUZZMINIMIZETIME (default 10s) caps the minimisation of each new input, so
# a large interesting input does not eat the whole FUZZTIME of its target.
#
# It prints one line per target (package, target, executions, crashers) and
# a summary; docs/reliability.md lists what each target checks.
set -uo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:/usr/local/go/bin"
fuzztime=${FUZZTIME:-20s}
minimize=${FUZZMINIMIZETIME:-10s}
only=${FUZZ_ONLY:-}

# "dir target" for every func FuzzXxx(f *testing.F) in a _test.go file.
mapfile -t targets < <(
	git ls-files --cached --others --exclude-standard '*_test.go' 2>/dev/null | grep . || find . -name '*_test.go' -not -path './.git/*'
)
list=()
for f in "${targets[@]}"; do
	f=${f#./}
	while read -r name; do
		[ -n "$name" ] && list+=("$(dirname "$f") $name")
	done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$f")
done
mapfile -t list < <(printf '%s\n' "${list[@]}" | sort -u)
if [ ${#list[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
failed=0
ran=0
printf '%-34s %-22s %12s %9s\n' package target execs crashers
for entry in "${list[@]}"; do
	dir=${entry% *}
	name=${entry#* }
	if [ -n "$only" ] && ! [[ $name =~ $only ]]; then
		continue
	fi
	out="$log/$name.out"
	for attempt in 1 2; do
		go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimize" "./$dir" >"$out" 2>&1
		rc=$?
		# Go's fuzzer can end a run with "context deadline exceeded" and no
		# failing input when a worker is still busy (minimising) as
		# -fuzztime runs out: not a finding, so that run is tried again once.
		if [ "$rc" -ne 0 ] && ! grep -q 'Failing input written to' "$out" &&
			grep -q 'context deadline exceeded' "$out" && [ "$attempt" -eq 1 ]; then
			echo "($dir $name: fuzzer shutdown timeout without a finding; running it again)"
			continue
		fi
		break
	done
	ran=$((ran + 1))
	execs=$(grep -o 'execs: [0-9]*' "$out" | tail -1 | grep -o '[0-9]*')
	crashers=$(grep -c 'Failing input written to' "$out")
	if [ "$rc" -ne 0 ] && [ "$crashers" -eq 0 ]; then
		crashers=1 # failed some other way (build error, seed failure)
	fi
	printf '%-34s %-22s %12s %9s\n' "$dir" "$name" "${execs:-?}" "$crashers"
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		echo "---- $dir $name failed (exit $rc):"
		grep -v '^fuzz: elapsed' "$out" | tail -40
		echo "----"
	fi
done
echo "fuzz: $ran targets, $failed failed, ${fuzztime} each"
if [ "$failed" -ne 0 ]; then
	exit 1
fi
