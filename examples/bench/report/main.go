// Command report turns the measurements run.sh collects (tab-separated, on
// standard input) into one Markdown table on standard output.
//
// Input lines:
//
//	run <scenario> <impl> <round> <requests> <duration us> <p50 us> <p99 us> <errors> <non-2xx> <server cpu ticks> <other cpu ticks> <ticks/s>
//	mem <scenario> <impl> <conns> <rss before KiB> <rss after KiB>
//
// Rows come in the order the input names them. Each implementation's row
// shows its best round (most requests/s, or operations/s for the WebSocket
// scenarios): on a shared machine, interference from other processes only
// ever subtracts, so the best round is the least disturbed one. Its p50,
// p99 and CPU figures are that round's (h2load reports no percentiles:
// blank); "other CPU" says how much else ran during it. Every row but
// esphttpd's shows esphttpd's best over its best, followed by the range of
// the per-round ratios (each round ran the implementations back to back).
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
)

// base is the implementation every other row is compared with.
const base = "esphttpd"

type run struct {
	reqs, durUS, p50, p99, errs, non2xx float64
	cpuS, otherS                        float64
}

type mem struct{ conns, before, after float64 }

type cell struct {
	runs []run
	mem  *mem
}

// scenario is one scenario's cells, by implementation, in input order.
type scenario struct {
	impls []string
	cells map[string]*cell
}

func main() {
	var order []string
	scenarios := map[string]*scenario{}
	get := func(sc, impl string) *cell {
		s := scenarios[sc]
		if s == nil {
			s = &scenario{cells: map[string]*cell{}}
			scenarios[sc] = s
			order = append(order, sc)
		}
		if s.cells[impl] == nil {
			s.cells[impl] = &cell{}
			s.impls = append(s.impls, impl)
		}
		return s.cells[impl]
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				log.Fatalf("line %q field %d: %v", sc.Text(), i, err)
			}
			return v
		}
		switch {
		case f[0] == "run" && len(f) == 13:
			c := get(f[1], f[2])
			c.runs = append(c.runs, run{
				reqs: num(4), durUS: num(5), p50: num(6), p99: num(7),
				errs: num(8), non2xx: num(9), cpuS: num(10) / num(12), otherS: num(11) / num(12),
			})
		case f[0] == "mem" && len(f) == 6:
			get(f[1], f[2]).mem = &mem{conns: num(3), before: num(4), after: num(5)}
		default:
			log.Fatalf("bad line %q", sc.Text())
		}
	}
	fmt.Println("| scenario | impl | req/s (best round) | req/s per round | p50 | p99 | server CPU s | CPU µs/req | other CPU | errors | RSS KiB/conn | esphttpd ÷ this |")
	fmt.Println("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range order {
		sc := scenarios[s]
		for _, impl := range sc.impls {
			c := sc.cells[impl]
			var vsBase string
			if esp := sc.cells[base]; impl != base && esp != nil {
				vsBase = ratio(esp, c)
			}
			if c.mem != nil {
				fmt.Printf("| %s | %s | | | | | | | | | %.1f | %s |\n", s, impl, perConn(c.mem), vsBase)
				continue
			}
			var rounds []string
			var errs float64
			for _, r := range c.runs {
				rounds = append(rounds, fmt.Sprintf("%.0f", rate(r)))
				errs += r.errs + r.non2xx
			}
			b := best(c)
			fmt.Printf("| %s | %s | %.0f | %s | %s | %s | %.2f | %.1f | %.0f%% | %.0f | | %s |\n",
				s, impl, rate(b), strings.Join(rounds, ", "), lat(b.p50), lat(b.p99),
				b.cpuS, b.cpuS/b.reqs*1e6, 100*b.otherS/(b.durUS/1e6), errs, vsBase)
		}
	}
}

func rate(r run) float64 { return r.reqs / (r.durUS / 1e6) }

// best is the round with the most requests/s.
func best(c *cell) run {
	return slices.MaxFunc(c.runs, func(a, b run) int {
		switch ra, rb := rate(a), rate(b); {
		case ra < rb:
			return -1
		case ra > rb:
			return 1
		}
		return 0
	})
}

func perConn(m *mem) float64 { return (m.after - m.before) / m.conns }

// ratio is esphttpd's best requests/s over other's, then the range of the
// per-round ratios; for the memory scenario, its RSS per connection over
// other's (lower is better there).
func ratio(esp, other *cell) string {
	if other == nil {
		return ""
	}
	if esp.mem != nil && other.mem != nil {
		return fmt.Sprintf("%.2f (RSS)", perConn(esp.mem)/perConn(other.mem))
	}
	if len(esp.runs) == 0 || len(other.runs) == 0 {
		return ""
	}
	out := fmt.Sprintf("%.2f", rate(best(esp))/rate(best(other)))
	var rs []float64
	for i := range min(len(esp.runs), len(other.runs)) {
		rs = append(rs, rate(esp.runs[i])/rate(other.runs[i]))
	}
	if len(rs) > 1 {
		out += fmt.Sprintf(" (%.2f–%.2f)", slices.Min(rs), slices.Max(rs))
	}
	return out
}

func lat(us float64) string {
	switch {
	case us == 0: // not measured (h2load)
		return ""
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	}
	return fmt.Sprintf("%.2f ms", us/1000)
}
