// ternbench: a load generator for etcd v3 servers (real etcd and Tern alike) on Debian's
// clientv3, with the subcommands and flags of etcd's tools/benchmark, so that the same
// command line sends the same requests. Written for Tern (issue #17) because a Node
// generator caps the server it measures; this one costs the client what etcd's own tool
// costs. It builds offline from Debian packages:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode:<repo>/net/bench/go go build -o ternbench ternbench
//
// Usage (global flags before or after the subcommand):
//
//	ternbench put           --endpoints H:P[,H:P] --clients 256 --conns 8 --total 60000 --val-size 256 --key-space-size 10000 [--sequential-keys]
//	ternbench range KEY [END] --clients 64 --conns 8 --total 40000 --consistency l|s
//	ternbench txn-put       --clients 64 --conns 8 --total 20000 --txn-ops 1 --val-size 256 --key-space-size 10000
//	ternbench watch-latency --watchers 100 --conns 4 --put-total 2000 --put-rate 500 --val-size 256
//
// It prints a summary like etcd's benchmark and, with --json, one last line of JSON
// (the bench script parses that line, not the text).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

type options struct {
	endpoints      string
	clients        int
	conns          int
	total          int
	valSize        int
	keySize        int
	keySpaceSize   int
	sequentialKeys bool
	consistency    string
	txnOps         int
	watchers       int
	putTotal       int
	putRate        int
	jsonOut        bool
	dialTimeout    time.Duration
}

// result is what one run measured: one latency per successful request (or per event
// delivered, for watch-latency).
type result struct {
	Mode         string  `json:"mode"`
	Ops          int     `json:"ops"`
	Errors       int     `json:"errors"`
	ErrorSample  string  `json:"errorSample,omitempty"`
	Seconds      float64 `json:"seconds"`
	OpsPerSecond float64 `json:"opsPerSecond"`
	FastestMs    float64 `json:"fastestMs"`
	SlowestMs    float64 `json:"slowestMs"`
	AverageMs    float64 `json:"averageMs"`
	StddevMs     float64 `json:"stddevMs"`
	P10Ms        float64 `json:"p10Ms"`
	P50Ms        float64 `json:"p50Ms"`
	P90Ms        float64 `json:"p90Ms"`
	P99Ms        float64 `json:"p99Ms"`
	P999Ms       float64 `json:"p999Ms"`
	// Client CPU (user + system) of this process while the clock ran, in cores busy.
	ClientCores float64 `json:"clientCores"`
	// watch-latency only: puts acknowledged, events received (of watchers × puts), and
	// the latency from the put's send (the summary's latency is from its acknowledgement,
	// as etcd's watch-latency measures).
	Puts        int     `json:"puts,omitempty"`
	Events      int     `json:"events,omitempty"`
	SendP50Ms   float64 `json:"sendP50Ms,omitempty"`
	SendP99Ms   float64 `json:"sendP99Ms,omitempty"`
	EarlyEvents int     `json:"earlyEvents,omitempty"`
}

func main() {
	mode, rest := splitSubcommand(os.Args[1:])
	fs := flag.NewFlagSet("ternbench "+mode, flag.ExitOnError)
	var o options
	fs.StringVar(&o.endpoints, "endpoints", "127.0.0.1:2379", "comma-separated host:port list; connection i dials endpoint i mod n")
	fs.IntVar(&o.clients, "clients", 1, "concurrent clients (requests in flight); for watch-latency, the watchers unless --watchers is given")
	fs.IntVar(&o.conns, "conns", 1, "gRPC connections the clients share round-robin")
	fs.IntVar(&o.total, "total", 10000, "requests in all (watch-latency: puts, like --put-total)")
	fs.IntVar(&o.valSize, "val-size", 8, "value size in bytes")
	fs.IntVar(&o.keySize, "key-size", 8, "key size in bytes")
	fs.IntVar(&o.keySpaceSize, "key-space-size", 1, "distinct keys")
	fs.BoolVar(&o.sequentialKeys, "sequential-keys", false, "keys 0,1,2,… mod key-space-size instead of random ones")
	fs.StringVar(&o.consistency, "consistency", "l", "range: l (linearizable) or s (serializable)")
	fs.IntVar(&o.txnOps, "txn-ops", 1, "txn-put: puts per txn")
	fs.IntVar(&o.watchers, "watchers", 0, "watch-latency: watchers on the key (default --clients)")
	fs.IntVar(&o.putTotal, "put-total", 0, "watch-latency: puts (default --total)")
	fs.IntVar(&o.putRate, "put-rate", 100, "watch-latency: puts per second")
	fs.BoolVar(&o.jsonOut, "json", false, "end with one line of JSON")
	fs.DurationVar(&o.dialTimeout, "dial-timeout", 10*time.Second, "dial timeout")
	// Accepted for command-line compatibility with etcd's benchmark; latencies are always precise here.
	fs.Bool("precise", true, "ignored (always precise)")
	// Positional arguments (range's KEY [END]) may sit between flags, as with cobra.
	var args []string
	for {
		if err := fs.Parse(rest); err != nil {
			os.Exit(2)
		}
		if fs.NArg() == 0 {
			break
		}
		args = append(args, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if o.clients < 1 || o.conns < 1 || o.total < 0 || o.keySpaceSize < 1 || o.keySize < 1 {
		fail("--clients, --conns, --key-space-size and --key-size must be ≥ 1, --total ≥ 0")
	}
	conns := dial(&o)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var r result
	switch mode {
	case "put":
		r = runPut(&o, conns)
	case "txn-put":
		r = runTxnPut(&o, conns)
	case "range":
		if len(args) < 1 || len(args) > 2 {
			fail("range wants KEY [END]")
		}
		r = runRange(&o, conns, args)
	case "watch-latency":
		r = runWatchLatency(&o, conns)
	default:
		usage()
	}
	printSummary(&r)
	if o.jsonOut {
		line, _ := json.Marshal(&r)
		fmt.Println(string(line))
	}
	if r.Ops == 0 && r.Errors > 0 {
		os.Exit(1)
	}
}

var subcommands = map[string]bool{"put": true, "range": true, "txn-put": true, "watch-latency": true}

// splitSubcommand finds the subcommand anywhere on the line (etcd's tool takes global
// flags before it) and returns it with every other argument.
func splitSubcommand(args []string) (string, []string) {
	for i, a := range args {
		if subcommands[a] {
			return a, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
	}
	usage()
	return "", nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ternbench put|range KEY [END]|txn-put|watch-latency [flags]; ternbench put -h for the flags")
	os.Exit(2)
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "ternbench: "+msg)
	os.Exit(2)
}

func dial(o *options) []*clientv3.Client {
	eps := strings.Split(o.endpoints, ",")
	conns := make([]*clientv3.Client, o.conns)
	for i := range conns {
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   []string{eps[i%len(eps)]},
			DialTimeout: o.dialTimeout,
			// Fail at the dial timeout on a wrong endpoint instead of retrying every request forever.
			DialOptions: []grpc.DialOption{grpc.WithBlock()},
			LogConfig:   &zap.Config{Level: zap.NewAtomicLevelAt(zap.ErrorLevel), Encoding: "console", OutputPaths: []string{"stderr"}, ErrorOutputPaths: []string{"stderr"}},
		})
		if err != nil {
			fail(fmt.Sprintf("dial %s: %v", eps[i%len(eps)], err))
		}
		conns[i] = c
	}
	return conns
}

// keyOf is the key of request n: an int64 varint in key-size bytes, like etcd's tool writes.
func keyOf(o *options, n int, rng *rand.Rand) string {
	k := make([]byte, o.keySize)
	v := n % o.keySpaceSize
	if !o.sequentialKeys {
		v = rng.Intn(o.keySpaceSize)
	}
	if o.keySize >= binary.MaxVarintLen64 {
		binary.PutVarint(k, int64(v))
	} else {
		var buf [binary.MaxVarintLen64]byte
		binary.PutVarint(buf[:], int64(v))
		copy(k, buf[:])
	}
	return string(k)
}

// closedLoop runs o.total requests from o.clients goroutines (client i on connection
// i mod conns), each sending its next request when the last one returned.
func closedLoop(o *options, conns []*clientv3.Client, mode string, do func(c *clientv3.Client, n int, rng *rand.Rand) error) result {
	var next int64 = -1
	lat := make([][]time.Duration, o.clients)
	errs := make([]int, o.clients)
	var sample atomic.Value
	var wg sync.WaitGroup
	cpu0 := cpuSeconds()
	start := time.Now()
	for i := 0; i < o.clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := conns[i%len(conns)]
			rng := rand.New(rand.NewSource(int64(i) + 1))
			mine := make([]time.Duration, 0, o.total/o.clients+1)
			for {
				n := int(atomic.AddInt64(&next, 1))
				if n >= o.total {
					break
				}
				t0 := time.Now()
				if err := do(c, n, rng); err != nil {
					errs[i]++
					sample.Store(err.Error())
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			lat[i] = mine
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := summarize(mode, flatten(lat), elapsed)
	r.ClientCores = (cpuSeconds() - cpu0) / elapsed.Seconds()
	for _, e := range errs {
		r.Errors += e
	}
	if s, ok := sample.Load().(string); ok {
		r.ErrorSample = s
	}
	return r
}

func runPut(o *options, conns []*clientv3.Client) result {
	val := strings.Repeat("x", o.valSize)
	return closedLoop(o, conns, "put", func(c *clientv3.Client, n int, rng *rand.Rand) error {
		_, err := c.Put(context.Background(), keyOf(o, n, rng), val)
		return err
	})
}

func runTxnPut(o *options, conns []*clientv3.Client) result {
	val := strings.Repeat("x", o.valSize)
	return closedLoop(o, conns, "txn-put", func(c *clientv3.Client, n int, rng *rand.Rand) error {
		ops := make([]clientv3.Op, o.txnOps)
		for j := range ops {
			ops[j] = clientv3.OpPut(keyOf(o, n*o.txnOps+j, rng), val)
		}
		_, err := c.Txn(context.Background()).Then(ops...).Commit()
		return err
	})
}

func runRange(o *options, conns []*clientv3.Client, args []string) result {
	var opts []clientv3.OpOption
	if len(args) == 2 {
		opts = append(opts, clientv3.WithRange(args[1]))
	}
	switch o.consistency {
	case "l":
	case "s":
		opts = append(opts, clientv3.WithSerializable())
	default:
		fail("--consistency wants l or s")
	}
	return closedLoop(o, conns, "range", func(c *clientv3.Client, _ int, _ *rand.Rand) error {
		_, err := c.Get(context.Background(), args[0], opts...)
		return err
	})
}

// runWatchLatency opens the watchers on one key (watcher i on connection i mod conns,
// so each connection carries one watch stream), then puts that key put-total times at
// put-rate from one client and measures, per event and watcher, the time from the
// put's acknowledgement to the event's arrival (0 when the event came first), as etcd's
// watch-latency does; the time from the put's send is reported beside it.
func runWatchLatency(o *options, conns []*clientv3.Client) result {
	watchers := o.watchers
	if watchers == 0 {
		watchers = o.clients
	}
	puts := o.putTotal
	if puts == 0 {
		puts = o.total
	}
	if o.putRate < 1 {
		fail("--put-rate must be ≥ 1")
	}
	key := keyOf(&options{keySize: o.keySize, keySpaceSize: 1, sequentialKeys: true}, 0, nil)
	val := strings.Repeat("x", o.valSize)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Each watcher records (revision, arrival) for its events; joined after the run.
	type arrival struct {
		rev int64
		at  time.Time
	}
	arrivals := make([][]arrival, watchers)
	// Watching from the revision after the current one, no event is missed however
	// late a watch gets registered; the pause lets registration finish before the clock.
	now, err := conns[0].Get(ctx, key)
	if err != nil {
		fail(fmt.Sprintf("get %q: %v", key, err))
	}
	chans := make([]clientv3.WatchChan, watchers)
	for i := range chans {
		chans[i] = conns[i%len(conns)].Watch(ctx, key, clientv3.WithRev(now.Header.Revision+1))
	}
	time.Sleep(500 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range chans {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mine := make([]arrival, 0, puts)
			for resp := range chans[i] {
				now := time.Now()
				for _, ev := range resp.Events {
					mine = append(mine, arrival{ev.Kv.ModRevision, now})
				}
				if len(mine) >= puts {
					break
				}
			}
			arrivals[i] = mine
		}(i)
	}
	type sent struct{ send, ack time.Time }
	byRev := make(map[int64]sent, puts)
	errors := 0
	sample := ""
	cpu0 := cpuSeconds()
	start := time.Now()
	interval := time.Second / time.Duration(o.putRate)
	for n := 0; n < puts; n++ {
		if d := time.Until(start.Add(time.Duration(n) * interval)); d > 0 {
			time.Sleep(d)
		}
		t0 := time.Now()
		resp, err := conns[0].Put(context.Background(), key, val)
		if err != nil {
			errors++
			sample = err.Error()
			continue
		}
		byRev[resp.Header.Revision] = sent{t0, time.Now()}
	}
	// Wait for the last events; a watcher still short after this has lost events.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cancel()
		<-done
	}
	elapsed := time.Since(start)
	var fromAck, fromSend []time.Duration
	early := 0
	for _, mine := range arrivals {
		for _, a := range mine {
			s, ok := byRev[a.rev]
			if !ok {
				continue
			}
			d := a.at.Sub(s.ack)
			if d < 0 {
				early++
				d = 0
			}
			fromAck = append(fromAck, d)
			fromSend = append(fromSend, a.at.Sub(s.send))
		}
	}
	r := summarize("watch-latency", fromAck, elapsed)
	r.ClientCores = (cpuSeconds() - cpu0) / elapsed.Seconds()
	r.Errors = errors
	r.ErrorSample = sample
	r.Puts = len(byRev)
	r.Events = len(fromAck)
	r.EarlyEvents = early
	sortDurations(fromSend)
	r.SendP50Ms = ms(percentile(fromSend, 50))
	r.SendP99Ms = ms(percentile(fromSend, 99))
	return r
}

func flatten(parts [][]time.Duration) []time.Duration {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	all := make([]time.Duration, 0, n)
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

// percentile of sorted d (nearest rank), 0 when empty.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(d)))) - 1
	if i < 0 {
		i = 0
	}
	return d[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func summarize(mode string, lat []time.Duration, elapsed time.Duration) result {
	sortDurations(lat)
	r := result{Mode: mode, Ops: len(lat), Seconds: elapsed.Seconds()}
	if elapsed > 0 {
		r.OpsPerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) == 0 {
		return r
	}
	var sum float64
	for _, d := range lat {
		sum += ms(d)
	}
	mean := sum / float64(len(lat))
	var sq float64
	for _, d := range lat {
		sq += (ms(d) - mean) * (ms(d) - mean)
	}
	r.FastestMs, r.SlowestMs, r.AverageMs = ms(lat[0]), ms(lat[len(lat)-1]), mean
	r.StddevMs = math.Sqrt(sq / float64(len(lat)))
	r.P10Ms, r.P50Ms, r.P90Ms = ms(percentile(lat, 10)), ms(percentile(lat, 50)), ms(percentile(lat, 90))
	r.P99Ms, r.P999Ms = ms(percentile(lat, 99)), ms(percentile(lat, 99.9))
	return r
}

// printSummary writes the text report in the layout of etcd's benchmark (seconds).
func printSummary(r *result) {
	s := func(v float64) float64 { return v / 1000 }
	fmt.Printf("\nSummary:\n  Total:\t%.4f secs.\n  Slowest:\t%.4f secs.\n  Fastest:\t%.4f secs.\n  Average:\t%.4f secs.\n  Stddev:\t%.4f secs.\n  Requests/sec:\t%.4f\n",
		r.Seconds, s(r.SlowestMs), s(r.FastestMs), s(r.AverageMs), s(r.StddevMs), r.OpsPerSecond)
	if r.Mode == "watch-latency" {
		fmt.Printf("  Puts:\t%d\n  Events:\t%d (%d before the put's acknowledgement)\n", r.Puts, r.Events, r.EarlyEvents)
	}
	fmt.Printf("\nLatency distribution:\n  10%% in %.4f secs.\n  50%% in %.4f secs.\n  90%% in %.4f secs.\n  99%% in %.4f secs.\n  99.9%% in %.4f secs.\n",
		s(r.P10Ms), s(r.P50Ms), s(r.P90Ms), s(r.P99Ms), s(r.P999Ms))
	if r.Errors > 0 {
		fmt.Printf("\nErrors: %d (e.g. %s)\n", r.Errors, r.ErrorSample)
	}
}

// cpuSeconds is this process's user + system CPU so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
