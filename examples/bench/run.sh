#!/usr/bin/env bash
# Side-by-side load test of esphttpd, net/http and fasthttp on 127.0.0.1.
#
#   examples/bench/run.sh                  # about 12 minutes; prints one Markdown table
#   DUR=2 ROUNDS=1 examples/bench/run.sh   # a quick look
#   ONLY="64 conns" examples/bench/run.sh  # only the scenarios whose label has "64 conns"
#
# Every scenario runs each server in turn, for ROUNDS rounds (round 1:
# esphttpd nethttp fasthttp, round 2 the reverse order, and so on), so slow
# drift of the machine cancels in the ratios. Scenarios: plain HTTP/1.1
# (wrk), h2c and h2 over TLS (h2load), HTTPS (wrk, with each server's
# session ticket default, all off, all on), WebSocket echo (./wsload, the
# same gorilla/websocket client for esphttpd, net/http + gorilla/websocket
# and net/http + coder/websocket), one esphttpd handle against two on one
# port (Config.ReusePort), and idle memory. wrk runs with ONE thread: the
# machine this was written for has 2 cores, and the load generator competes
# with the server for them. Server CPU seconds come from /proc/PID/stat
# (utime+stime) around each measurement; RSS from /proc/PID/status (VmRSS).
# "Other CPU" is the CPU time of everything else on the machine during a
# measurement (busy time from /proc/stat, less the server's and wrk's), in %
# of one core: on a shared machine, a round with much of it is disturbed.
# Only 127.0.0.1 is ever contacted.
set -euo pipefail

cd "$(dirname "$0")"
DUR=${DUR:-3}          # seconds per measurement
ROUNDS=${ROUNDS:-3}    # rounds per scenario (at least 2 for the drift to cancel)
IDLE=${IDLE:-5000}     # connections of the memory scenario
ONLY=${ONLY:-}         # run only the scenarios whose label contains this ("idle": memory only)
BASE_PORT=${BASE_PORT:-18180}
IMPLS=(esphttpd nethttp fasthttp)
started=$SECONDS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

need() { # need COMMAND DEBIAN-PACKAGE
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "installing $2 for $1" >&2
		if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
		$SUDO apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$2" >&2
	fi
}
need wrk wrk
need h2load nghttp2-client
need taskset util-linux

# Each server and the idle client hold thousands of sockets.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((IDLE + 1000)) ]; then
	echo "ulimit -n is $(ulimit -n): too low for $IDLE idle connections" >&2
	exit 1
fi

mkdir -p bin
echo "building servers" >&2
GOFLAGS=-mod=mod go build -o bin/server ./server # -mod=mod: follows dependency changes of the root module
GOFLAGS=-mod=mod go build -o bin/idle ./idle
GOFLAGS=-mod=mod go build -o bin/report ./report
GOFLAGS=-mod=mod go build -o bin/wsload ./wsload

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
results=$tmp/results.tsv
: >"$results"

TCK=$(getconf CLK_TCK)
cpu_ticks() { # utime+stime of PID, in clock ticks
	local s
	s=$(<"/proc/$1/stat")
	s=${s##*) } # fields after "(comm) "; utime and stime are the 12th and 13th
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}
# busy_ticks: CPU time the whole machine spent in user, nice, system and
# steal (stolen by the hypervisor: also time we did not get). Interrupt and
# softirq time is left out: loopback packets are processed there.
busy_ticks() {
	local _ user nice system steal
	read -r _ user nice system _ _ _ _ steal _ </proc/stat
	echo $((user + nice + system + steal))
}
# child_ticks sets KIDS to the CPU time of this shell's finished children
# (wrk), from the times builtin, which must run in this shell, not in $( ).
child_ticks() {
	times >"$tmp/times"
	KIDS=$(awk -v t="$TCK" 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); n += p[1] * 60 + p[2] }; printf "%d\n", n * t }' "$tmp/times")
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

declare -A PID PORT
start_server() { # start_server KEY PORT [FLAG...]: sets PID[KEY]; the implementation is KEY up to its first "-"
	local key=$1 port=$2 log=$tmp/$1.log
	shift 2
	./bin/server -impl "${key%%-*}" -addr "127.0.0.1:$port" "$@" >"$log" 2>&1 &
	PID[$key]=$!
	PORT[$key]=$port
	pids+=("$!")
	for _ in $(seq 100); do
		grep -q "listening on" "$log" && return 0
		sleep 0.05
	done
	echo "$key did not start:" >&2
	cat "$log" >&2
	exit 1
}
stop_server() { # stop_server KEY: by PID
	local pid=${PID[$1]}
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# The load tools. Each prints one line
#   BENCH <requests> <duration us> <p50 us> <p99 us> <errors> <non-2xx>
# and takes the server's port and the path; the scenario sets T_* first:
# T_SCHEME (http, https, ws, wss), T_CONNS, T_ENV (wrk/bench.lua's
# variables), T_PIN (a taskset prefix), T_ARGS (wsload's flags).
tool_wrk() {
	env "${T_ENV[@]}" $T_PIN wrk -t1 -c"$T_CONNS" -d"${DUR}s" --timeout 5s -s wrk/bench.lua \
		"$T_SCHEME://127.0.0.1:$1$2"
}
# h2load has no latency percentiles: p50 and p99 are left 0 (blank in the table).
tool_h2load() {
	h2load -t1 -c32 -m10 -D "$DUR" "$T_SCHEME://127.0.0.1:$1$2" | awk '
		/^finished in/ { d = $3; sub(/s,$/, "", d) }
		/^requests:/ { ok = $8; errs = $10 + $12 + $14 }
		/^status codes:/ { bad = $5 + $7 + $9 }
		END { if (d != "") printf "BENCH %d %d 0 0 %d %d\n", ok, d * 1e6, errs, bad }'
}
tool_ws() {
	./bin/wsload -url "$T_SCHEME://127.0.0.1:$1$2" -dur "${DUR}s" "${T_ARGS[@]}"
}

# measure LABEL ENTRY ROUND TOOL: one run of TOOL against ENTRY, which is
# IMPL:SERVER-KEY:PATH (IMPL is the table's row name).
measure() {
	local label=$1 round=$3 tool=$4 impl key path
	IFS=: read -r impl key path <<<"$2"
	local pid=${PID[$key]} before after busy0 busy1 kids0 kids1 out line
	child_ticks
	kids0=$KIDS
	before=$(cpu_ticks "$pid")
	busy0=$(busy_ticks)
	out=$("$tool" "${PORT[$key]}" "$path")
	busy1=$(busy_ticks)
	after=$(cpu_ticks "$pid")
	child_ticks
	kids1=$KIDS
	local other=$(((busy1 - busy0) - (after - before) - (kids1 - kids0)))
	((other >= 0)) || other=0
	line=$(grep '^BENCH ' <<<"$out") || {
		echo "$tool printed no result for $label/$impl:" >&2
		echo "$out" >&2
		exit 1
	}
	read -r _ reqs dur p50 p99 errs non2xx <<<"$line"
	printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$impl" "$round" \
		"$reqs" "$dur" "$p50" "$p99" "$errs" "$non2xx" $((after - before)) "$other" "$TCK" >>"$results"
	printf '  %-46s %-18s round %s: %s requests in %ss, %s errors, other CPU %s ticks\n' "$label" "$impl" "$round" \
		"$reqs" "$DUR" $((errs + non2xx)) "$other" >&2
}

# scenario LABEL TOOL ENTRY...: every entry, ROUNDS times, the order
# reversed every other round so that drift cancels in the ratios.
scenario() {
	local label=$1 tool=$2
	shift 2
	[[ $label == *"$ONLY"* ]] || return 0
	local entries=("$@") r i
	for r in $(seq "$ROUNDS"); do
		for i in "${!entries[@]}"; do
			((r % 2)) || i=$((${#entries[@]} - 1 - i))
			measure "$label" "${entries[$i]}" "$r" "$tool"
		done
	done
}
# plain, tls, ...: the entries of the three HTTP servers of one kind.
three() { echo "esphttpd:esphttpd$1:$2" "nethttp:nethttp$1:$2" "fasthttp:fasthttp$1:$2"; }

echo "load: every server up at once, each measured alone" >&2
port=$BASE_PORT
start_next() { start_server "$1" "$port" "${@:2}"; port=$((port + 1)); }
for impl in "${IMPLS[@]}"; do
	start_next "$impl"
	start_next "$impl-tls" -tls
	start_next "$impl-tlsoff" -tls -tickets off
	start_next "$impl-tlson" -tls -tickets on
done
start_next nethttp-h2c -h2c
start_next esphttpd-2h -handles 2
# Warm up (not recorded): heap, goroutine stacks, buffer pools.
for key in "${!PORT[@]}"; do
	scheme=http
	[[ $key == *-tls* ]] && scheme=https
	wrk -t1 -c64 -d1s "$scheme://127.0.0.1:${PORT[$key]}/hello" >/dev/null
done

T_SCHEME=http T_PIN= T_ENV=() T_ARGS=()
T_CONNS=1 scenario "keep-alive GET, 1 conn" tool_wrk $(three "" /hello)
T_CONNS=64 scenario "keep-alive GET, 64 conns" tool_wrk $(three "" /hello)
T_CONNS=256 scenario "keep-alive GET, 256 conns" tool_wrk $(three "" /hello)
T_CONNS=1000 scenario "keep-alive GET, 1000 conns" tool_wrk $(three "" /hello)
T_ENV=(BENCH_CLOSE=1)
T_CONNS=64 scenario "new connection per GET, 64 conns" tool_wrk $(three "" /hello)
T_ENV=(BENCH_POST=4096)
T_CONNS=64 scenario "POST 4 KiB echo, 64 conns" tool_wrk $(three "" /echo)
T_ENV=(BENCH_POST=1048576)
T_CONNS=16 scenario "POST 1 MiB echo, 16 conns" tool_wrk $(three "" /echo)
T_ENV=()
T_CONNS=64 scenario "chunked GET 4x1 KiB, 64 conns" tool_wrk $(three "" /chunked)
T_CONNS=64 scenario "GET 8 resp headers, 64 conns" tool_wrk $(three "" /headers)
scenario "h2c GET, h2load -c32 -m10" tool_h2load esphttpd:esphttpd:/hello nethttp:nethttp-h2c:/hello

T_SCHEME=https
scenario "h2 over TLS GET, h2load -c32 -m10" tool_h2load esphttpd:esphttpd-tls:/hello nethttp:nethttp-tls:/hello
T_CONNS=64 scenario "HTTPS keep-alive GET, 64 conns" tool_wrk $(three -tls /hello)
T_ENV=(BENCH_CLOSE=1)
T_CONNS=16 scenario "HTTPS new conn per GET, 16 conns, defaults" tool_wrk $(three -tls /hello)
T_CONNS=16 scenario "HTTPS new conn per GET, 16 conns, tickets off" tool_wrk $(three -tlsoff /hello)
T_CONNS=16 scenario "HTTPS new conn per GET, 16 conns, tickets on" tool_wrk $(three -tlson /hello)
T_ENV=()

ws() { echo "esphttpd:esphttpd$1:/ws" "gorilla:nethttp$1:/ws" "coder:nethttp$1:/ws-coder"; }
T_ARGS=(-conns 32 -size 64)
T_SCHEME=ws scenario "WS 64 B binary echo, 32 conns" tool_ws $(ws "")
T_SCHEME=wss scenario "WSS 64 B binary echo, 32 conns" tool_ws $(ws -tls)
T_ARGS=(-size 1048576 -text)
T_SCHEME=ws scenario "WS 1 MiB text echo, 1 conn" tool_ws $(ws "")
T_ARGS=(-size 1048576)
T_SCHEME=ws scenario "WS 1 MiB binary echo, 1 conn" tool_ws $(ws "")
T_ARGS=(-size 65536 -batch 100)
T_SCHEME=ws scenario "WS 100 x 64 KiB binary echo, 1 conn" tool_ws $(ws "")

# Several handles on one port (Config.ReusePort): wrk pinned to CPU 0, the
# server free to use every core.
T_SCHEME=http T_CONNS=64 T_PIN="taskset -c 0" scenario "handles: keep-alive GET, 64 conns, wrk on CPU 0" tool_wrk \
	"esphttpd:esphttpd:/hello" "esphttpd 2 handles:esphttpd-2h:/hello"
T_PIN=

for key in "${!PID[@]}"; do stop_server "$key"; done

[[ "$IDLE idle keep-alive conns" == *"$ONLY"* ]] || IMPLS=()
((${#IMPLS[@]} == 0)) || echo "memory: $IDLE idle keep-alive connections, a fresh server each" >&2
for impl in "${IMPLS[@]}"; do
	start_server "$impl" "$port"
	port=$((port + 1))
	wrk -t1 -c8 -d1s "http://127.0.0.1:${PORT[$impl]}/hello" >/dev/null
	sleep 1
	before=$(rss_kib "${PID[$impl]}")
	mkfifo "$tmp/idle.in"
	./bin/idle -addr "127.0.0.1:${PORT[$impl]}" -n "$IDLE" -hold 60s <"$tmp/idle.in" >"$tmp/idle.out" &
	idle=$!
	pids+=("$idle")
	exec 3>"$tmp/idle.in" # holding the fifo open keeps the client holding
	for _ in $(seq 300); do
		grep -q READY "$tmp/idle.out" 2>/dev/null && break
		kill -0 "$idle" 2>/dev/null || break
		sleep 0.1
	done
	grep -q READY "$tmp/idle.out" || {
		echo "idle client failed against $impl" >&2
		exit 1
	}
	sleep 2 # let the server settle with every connection idle
	after=$(rss_kib "${PID[$impl]}")
	exec 3>&-
	wait "$idle" || true
	rm -f "$tmp/idle.in"
	printf 'mem\t%s\t%s\t%s\t%s\t%s\n' "$IDLE idle keep-alive conns" "$impl" "$IDLE" "$before" "$after" >>"$results"
	printf '  idle %-8s RSS %s KiB -> %s KiB\n' "$impl" "$before" "$after" >&2
	stop_server "$impl"
done

echo "nproc $(nproc), $(go version), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "wrk -t1 (one load thread: 2 cores shared with the server), ${DUR}s per measurement, $ROUNDS rounds; took $((SECONDS - started))s"
echo "load average (1, 5, 15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg); anything above ~1 before means other processes shared the cores"
echo
./bin/report <"$results"
