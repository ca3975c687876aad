// Package bench holds the benchmarks behind docs/benchmarks.md: the collector distribution against the real
// Docker engine (throughput, reopen and restart cost, many containers, a soak, many hosts) and the Go
// micro-benchmarks of the hot path. They print figures and never assert a speed; run them with `make bench`,
// which sets DOCKERLOGS_BENCH=1 and rewrites docs/benchmarks.md.
package bench
