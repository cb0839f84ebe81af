// boltcheck: Go's own bbolt (go.etcd.io/bbolt, Debian's golang-etcd-server-dev) as the
// judge of the bbolt files Tern writes (storage/bbolt/).
//
//	boltcheck check FILE   runs tx.Check(), then prints every bucket and key/value in
//	                       cursor order as hex ("b NAME", "k KEY VALUE"), after checking
//	                       that Get finds each key it iterated; exits 1 on any problem
//	boltcheck apply FILE   applies the ops on stdin with bbolt, one transaction per
//	                       "commit" line: "put BUCKET KEY VALUE", "del BUCKET KEY",
//	                       "drop BUCKET" (all hex), "fill BUCKET PERCENT"
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

func main() {
	if len(os.Args) != 3 {
		fail("usage: boltcheck check|apply FILE")
	}
	switch os.Args[1] {
	case "check":
		check(os.Args[2])
	case "apply":
		apply(os.Args[2])
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "boltcheck:", message)
	os.Exit(1)
}

func check(path string) {
	db, err := bolt.Open(path, 0600, &bolt.Options{ReadOnly: true})
	if err != nil {
		fail("open: " + err.Error())
	}
	defer db.Close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	err = db.View(func(tx *bolt.Tx) error {
		for problem := range tx.Check() {
			return fmt.Errorf("check: %v", problem)
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			fmt.Fprintf(out, "b %s\n", hex.EncodeToString(name))
			var last []byte
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if last != nil && bytes.Compare(last, k) >= 0 {
					return fmt.Errorf("bucket %q: key %x after %x", name, k, last)
				}
				last = append(last[:0], k...)
				if got := b.Get(k); !bytes.Equal(got, v) {
					return fmt.Errorf("bucket %q: Get(%x) = %x, the cursor saw %x", name, k, got, v)
				}
				fmt.Fprintf(out, "k %s %s\n", hex.EncodeToString(k), hex.EncodeToString(v))
			}
			return nil
		})
	})
	if err != nil {
		out.Flush()
		fail(err.Error())
	}
}

func apply(path string) {
	db, err := bolt.Open(path, 0600, nil)
	if err != nil {
		fail("open: " + err.Error())
	}
	defer db.Close()
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	var ops [][]string
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 {
			continue
		}
		if fields[0] != "commit" {
			ops = append(ops, fields)
			continue
		}
		if err := db.Update(func(tx *bolt.Tx) error { return run(tx, ops) }); err != nil {
			fail(err.Error())
		}
		ops = nil
	}
	if err := scanner.Err(); err != nil {
		fail(err.Error())
	}
}

func run(tx *bolt.Tx, ops [][]string) error {
	fill := map[string]float64{}
	for _, op := range ops {
		name := unhex(op[1])
		switch op[0] {
		case "drop":
			if err := tx.DeleteBucket(name); err != nil && err != bolt.ErrBucketNotFound {
				return err
			}
			continue
		case "fill":
			percent, err := strconv.ParseFloat(op[2], 64)
			if err != nil {
				return err
			}
			fill[string(name)] = percent
			continue
		}
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		if percent, ok := fill[string(name)]; ok {
			b.FillPercent = percent
		}
		switch op[0] {
		case "put":
			err = b.Put(unhex(op[2]), unhex(op[3]))
		case "del":
			err = b.Delete(unhex(op[2]))
		default:
			err = fmt.Errorf("unknown op %q", op[0])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func unhex(s string) []byte {
	if s == "-" {
		return []byte{}
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		fail("bad hex " + s)
	}
	return b
}
