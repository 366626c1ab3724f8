package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/internal/embedded"
)

// ProbeOptions configure the probe of the database's cost model.
type ProbeOptions struct {
	MongoURI string // empty: an embedded database in a temporary directory, in this process
	Quick    bool   // small sizes only (the tests)
	Out      io.Writer
	Log      io.Writer // progress
}

// Probe measures what the data layout of the records rests on, on the
// database itself: how a FindOne by _id costs with the rows and bytes of its
// collection, how inserts cost with the size of the collection, what many
// small collections cost, and what a delete of many _ids costs.
func Probe(ctx context.Context, o ProbeOptions) error {
	uri := o.MongoURI
	backend := "FerretDB over SQLite, embedded in this process"
	if uri == "" {
		dir, err := os.MkdirTemp("", "cdt-probe-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		db, err := embedded.Start(dir, "127.0.0.1:0", nil)
		if err != nil {
			return err
		}
		defer db.Stop()
		uri = db.URI()
	} else {
		backend = uri
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(64))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.WithoutCancel(ctx))
	db := c.Database("cdt_probe")
	_ = db.Drop(ctx)
	defer db.Drop(context.WithoutCancel(ctx))
	fmt.Fprintf(o.Out, "Probe of %s.\n\n", backend)
	p := &prober{ctx: ctx, db: db, out: o.Out, log: o.Log, r: rand.New(rand.NewPCG(1, 2))}
	steps := []func(quick bool) error{p.lookups, p.inserts, p.collections, p.deletes}
	for _, s := range steps {
		if err := s(o.Quick); err != nil {
			return err
		}
	}
	return nil
}

type prober struct {
	ctx context.Context
	db  *mongo.Database
	out io.Writer
	log io.Writer
	r   *rand.Rand
}

func (p *prober) fill(c *mongo.Collection, from, to, size int) error {
	pad := strings.Repeat("x", max(size-60, 1))
	for i := from; i < to; i += 1000 {
		docs := make([]any, 0, 1000)
		for j := i; j < min(i+1000, to); j++ {
			docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("k%09d", j)}, {Key: "n", Value: j}, {Key: "pad", Value: pad}})
		}
		if _, err := c.InsertMany(p.ctx, docs); err != nil {
			return err
		}
	}
	return nil
}

// median of fn's durations over n calls.
func (p *prober) median(n int, fn func(i int) error) (time.Duration, error) {
	lat := make([]time.Duration, 0, n)
	for i := range n {
		t := time.Now()
		if err := fn(i); err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(t))
	}
	return Summarise(lat, 0, 0).P50, nil
}

func (p *prober) lookups(quick bool) error {
	rows, sizes := []int{1000, 10000, 100000}, []int{100, 1000, 10000}
	if quick {
		rows, sizes = []int{100, 1000}, []int{100, 1000}
	}
	var t [][]string
	for _, n := range rows {
		for _, size := range sizes {
			if n*size > 100_000_000 {
				continue
			}
			fmt.Fprintf(p.log, "probe: lookups in %d × %d B\n", n, size)
			c := p.db.Collection(fmt.Sprintf("lookup_%d_%d", n, size))
			if err := p.fill(c, 0, n, size); err != nil {
				return err
			}
			var d bson.M
			one, err := p.median(21, func(int) error {
				return c.FindOne(p.ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("k%09d", p.r.IntN(n))}}).Decode(&d)
			})
			if err != nil {
				return err
			}
			in10, err := p.median(11, func(int) error {
				ids := make([]string, 10)
				for i := range ids {
					ids[i] = fmt.Sprintf("k%09d", p.r.IntN(n))
				}
				cur, err := c.Find(p.ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
				if err != nil {
					return err
				}
				var out []bson.M
				return cur.All(p.ctx, &out)
			})
			if err != nil {
				return err
			}
			t = append(t, []string{fmt.Sprint(n), fmt.Sprint(size), fmt.Sprintf("%.1f", float64(n*size)/1e6), Ms(one), Ms(in10)})
			_ = c.Drop(p.ctx)
		}
	}
	fmt.Fprintln(p.out, "FindOne by _id and Find of 10 _ids ($in), median ms, by the collection's documents and their size:")
	fmt.Fprintln(p.out)
	Table(p.out, []string{"documents", "bytes each", "MB", "FindOne _id ms", "Find _id $in 10 ms"}, t)
	fmt.Fprintln(p.out)
	return nil
}

func (p *prober) inserts(quick bool) error {
	marks := []int{0, 100_000, 1_000_000}
	if quick {
		marks = []int{0, 2000}
	}
	c := p.db.Collection("inserts")
	var t [][]string
	have, next := 0, 100_000_000
	for _, m := range marks {
		fmt.Fprintf(p.log, "probe: inserts at %d\n", m)
		if err := p.fill(c, have, m, 300); err != nil {
			return err
		}
		have = m
		pad := strings.Repeat("y", 240)
		doc := func() any {
			next++
			return bson.D{{Key: "_id", Value: fmt.Sprintf("k%09d", next)}, {Key: "n", Value: next}, {Key: "pad", Value: pad}}
		}
		seq, err := p.median(201, func(int) error { _, err := c.InsertOne(p.ctx, doc()); return err })
		if err != nil {
			return err
		}
		conc := LoadWorkers(1000, 32, func(int, int) error { _, err := c.InsertOne(p.ctx, doc()); return err })
		batch := LoadWorkers(20, 1, func(int, int) error {
			docs := make([]any, 100)
			for i := range docs {
				docs[i] = doc()
			}
			_, err := c.InsertMany(p.ctx, docs, options.InsertMany().SetOrdered(false))
			return err
		})
		if conc.Errors+batch.Errors > 0 {
			return fmt.Errorf("probe: insert errors")
		}
		t = append(t, []string{fmt.Sprint(m), Ms(seq), fmt.Sprintf("%.0f", conc.Throughput()), Ms(conc.P99),
			fmt.Sprintf("%.0f", 100*batch.Throughput())})
	}
	fmt.Fprintln(p.out, "Inserts of 300-byte documents by the size of the collection:")
	fmt.Fprintln(p.out)
	Table(p.out, []string{"documents stored", "InsertOne sequential p50 ms", "InsertOne 32 clients /s", "its p99 ms", "InsertMany of 100 docs/s"}, t)
	fmt.Fprintln(p.out)
	_ = c.Drop(p.ctx)
	return nil
}

func (p *prober) collections(quick bool) error {
	counts := []int{10, 300, 1000, 3000}
	if quick {
		counts = []int{5, 30}
	}
	var t [][]string
	made := 0
	for _, n := range counts {
		fmt.Fprintf(p.log, "probe: %d collections\n", n)
		start := time.Now()
		for i := made; i < n; i++ {
			if err := p.fill(p.db.Collection(fmt.Sprintf("many_%05d", i)), 0, 20, 1000); err != nil {
				return err
			}
		}
		per := time.Duration(0)
		if n > made {
			per = time.Since(start) / time.Duration(n-made)
		}
		made = n
		var d bson.M
		find, err := p.median(51, func(int) error {
			c := p.db.Collection(fmt.Sprintf("many_%05d", p.r.IntN(n)))
			return c.FindOne(p.ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("k%09d", p.r.IntN(20))}}).Decode(&d)
		})
		if err != nil {
			return err
		}
		k := 0
		ins, err := p.median(51, func(int) error {
			k++
			c := p.db.Collection(fmt.Sprintf("many_%05d", p.r.IntN(n)))
			_, err := c.InsertOne(p.ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("z%d-%d", n, k)}, {Key: "pad", Value: "x"}})
			return err
		})
		if err != nil {
			return err
		}
		t = append(t, []string{fmt.Sprint(n), Ms(per), Ms(find), Ms(ins)})
	}
	fmt.Fprintln(p.out, "Many small collections (20 documents of 1 kB each): the cost of one more, and of reads and inserts in a random one:")
	fmt.Fprintln(p.out)
	Table(p.out, []string{"collections", "create + fill one ms", "FindOne _id p50 ms", "InsertOne p50 ms"}, t)
	fmt.Fprintln(p.out)
	for i := range made {
		_ = p.db.Collection(fmt.Sprintf("many_%05d", i)).Drop(p.ctx)
	}
	return nil
}

func (p *prober) deletes(quick bool) error {
	rows := []int{1000, 10000, 50000}
	if quick {
		rows = []int{1000}
	}
	var t [][]string
	for _, n := range rows {
		fmt.Fprintf(p.log, "probe: deletes in %d\n", n)
		c := p.db.Collection(fmt.Sprintf("del_%d", n))
		if err := p.fill(c, 0, n, 1000); err != nil {
			return err
		}
		perm := p.r.Perm(n)
		next := 0
		ids := func(k int) []string {
			out := make([]string, k)
			for i := range out {
				out[i] = fmt.Sprintf("k%09d", perm[next])
				next++
			}
			return out
		}
		one, err := p.median(11, func(int) error {
			_, err := c.DeleteOne(p.ctx, bson.D{{Key: "_id", Value: ids(1)[0]}})
			return err
		})
		if err != nil {
			return err
		}
		many, err := p.median(5, func(int) error {
			_, err := c.DeleteMany(p.ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids(100)}}}})
			return err
		})
		if err != nil {
			return err
		}
		repl, err := p.median(11, func(int) error {
			_, err := c.ReplaceOne(p.ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("k%09d", perm[n-1-p.r.IntN(n/2)])}},
				bson.D{{Key: "n", Value: 1}, {Key: "pad", Value: "r"}})
			return err
		})
		if err != nil {
			return err
		}
		t = append(t, []string{fmt.Sprint(n), Ms(one), Ms(many), Ms(repl)})
		_ = c.Drop(p.ctx)
	}
	fmt.Fprintln(p.out, "Deletes and replaces in a collection of 1 kB documents, median ms:")
	fmt.Fprintln(p.out)
	Table(p.out, []string{"documents", "DeleteOne _id", "DeleteMany 100 _ids ($in)", "ReplaceOne _id"}, t)
	fmt.Fprintln(p.out)
	return nil
}
