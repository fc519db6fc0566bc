package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	gohash "hash"
	"math"
	"runtime"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The entry hash is SHA-256 over the JSON array [seq, at, actor, action, subject, details,
// prev_hash] exactly as encoding/json's Marshal writes it (HTML characters escaped, invalid
// UTF-8 as \ufffd): unambiguous, and easy to recompute by an auditor with any JSON library.
// hashInput writes that encoding without reflection or allocation, so that Verify can
// recompute a million hashes in well under a second; TestHashInputMatchesJSON and
// FuzzHashInput hold it to json.Marshal.

// hash returns the lowercase hex entry hash of the columns.
func hash(seq int64, at, actor, action, subject, details, prev string) string {
	var h entryHasher
	sum := h.sum(seq, []byte(at), []byte(actor), []byte(action), []byte(subject), []byte(details), []byte(prev))
	return hex.EncodeToString(sum[:])
}

// entryHasher computes entry hashes with one reused buffer and SHA-256 state.
type entryHasher struct {
	buf []byte
	sha gohash.Hash
}

func (h *entryHasher) sum(seq int64, at, actor, action, subject, details, prev []byte) (out [sha256.Size]byte) {
	if h.sha == nil {
		h.sha = sha256.New()
	}
	h.buf = hashInput(h.buf[:0], seq, at, actor, action, subject, details, prev)
	h.sha.Reset()
	h.sha.Write(h.buf)
	h.sha.Sum(out[:0])
	return out
}

func hashInput(dst []byte, seq int64, at, actor, action, subject, details, prev []byte) []byte {
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, seq, 10)
	for _, s := range [...][]byte{at, actor, action, subject, details, prev} {
		dst = append(dst, ',')
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

var lineSep, paraSep = []byte("\u2028"), []byte("\u2029")

// jsonSafe marks the ASCII bytes encoding/json writes as they are (HTML escaping on).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendJSONString is encoding/json's string encoding with HTML escaping on.
func appendJSONString(dst, src []byte) []byte {
	dst = append(dst, '"')
	// Fast path, the usual case: nothing to escape, so the bytes go as they are.
	plain, ascii := true, true
	for _, b := range src {
		if b >= utf8.RuneSelf {
			ascii = false
		} else if !jsonSafe[b] {
			plain = false
			break
		}
	}
	if plain && (ascii || utf8.Valid(src) && !bytes.Contains(src, lineSep) && !bytes.Contains(src, paraSep)) {
		dst = append(dst, src...)
		return append(dst, '"')
	}
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// BrokenError says where and why the chain does not verify.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string { return fmt.Sprintf("broken at seq %d: %s", e.Seq, e.Reason) }

// Verify walks the whole chain in order and returns the number of entries, or a
// *BrokenError at the first entry that does not verify.
func Verify(ctx context.Context, db *sql.DB) (int64, error) {
	return VerifyAgainst(ctx, db)
}

// VerifyAgainst is Verify that also proves the chain still holds each checkpoint: entry
// cp.Seq exists and has hash cp.Hash. A chain rewritten from the start, or cut back below
// a checkpoint, verifies on its own but fails here.
//
// Each entry's hash can be recomputed on its own, and each link is a comparison of two
// stored hashes, so the trail is split into one seq range per CPU, each read and checked
// by its own pair of goroutines (one reads rows into a few reused batches, the other
// checks them with one reused SHA-256 state); the links between ranges and the order of
// the answers are settled at the end. The first break in seq order is the one reported,
// as a walk from the start would report it. Memory stays a few batches per range.
func VerifyAgainst(ctx context.Context, db *sql.DB, cps ...Checkpoint) (int64, error) {
	var last int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_log`).Scan(&last); err != nil {
		return 0, err
	}
	k := max(1, min(runtime.GOMAXPROCS(0), 4))
	if last < 10_000 {
		k = 1 // not worth the goroutines
	}
	return verifyParts(ctx, db, last, int64(k), cps)
}

// verifyParts verifies in k ranges of [1, last].
func verifyParts(ctx context.Context, db *sql.DB, last, k int64, cps []Checkpoint) (int64, error) {
	want := map[int64]string{}
	for _, cp := range cps {
		want[cp.Seq] = cp.Hash
	}
	parts := make([]*part, k)
	var wg sync.WaitGroup
	for i := range parts {
		// Range i is [lo, hi); the first has no lower bound and the last no upper bound, so
		// that stray rows (seq 0, or beyond the head read above) are seen too.
		p := &part{lo: 1 + int64(i)*last/k, hi: 1 + int64(i+1)*last/k, open: i == 0, last: i == len(parts)-1}
		parts[i] = p
		wg.Add(1)
		go func() { defer wg.Done(); p.verify(ctx, db, want) }()
	}
	wg.Wait()

	expected, prev := int64(1), []byte(Genesis)
	var broken *BrokenError
	for _, p := range parts {
		if p.err != nil {
			return 0, p.err
		}
		if !p.seen {
			continue // a gap shows as the next range's first seq
		}
		switch {
		case p.firstSeq != expected:
			broken = &BrokenError{Seq: expected, Reason: fmt.Sprintf("entry missing (next entry is seq %d)", p.firstSeq)}
		case !bytes.Equal(p.firstPrev, prev):
			broken = &BrokenError{Seq: p.firstSeq, Reason: "prev_hash does not match the previous entry's hash"}
		default:
			broken = p.broken
		}
		if broken != nil {
			break
		}
		expected, prev = p.lastSeq+1, p.lastHash
	}
	if broken != nil {
		return broken.Seq - 1, broken
	}
	n := expected - 1
	// The lowest checkpoint beyond the end is the one to name.
	var missing int64
	for s := range want {
		if s > n && (missing == 0 || s < missing) {
			missing = s
		}
	}
	if missing > 0 {
		return n, &BrokenError{Seq: missing, Reason: fmt.Sprintf("entry missing: the chain ends at seq %d, before the checkpoint %d:%s (entries were cut off the end)", n, missing, want[missing])}
	}
	return n, nil
}

// part is one seq range of a verification and what it found.
type part struct {
	lo, hi     int64
	open, last bool // no lower bound, no upper bound

	seen                bool // a first row was read
	rows                int64
	firstSeq, lastSeq   int64
	firstPrev, lastHash []byte
	broken              *BrokenError // the first break inside the range after its first row's links
	err                 error
}

// verify checks every entry of the range but its first row's seq and prev_hash, which
// depend on the range before and are checked by VerifyAgainst.
func (p *part) verify(ctx context.Context, db *sql.DB, want map[int64]string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full, free := make(chan *batch, 3), make(chan *batch, 4)
	for range cap(free) {
		free <- &batch{}
	}
	readErr := make(chan error, 1)
	go func() { readErr <- p.read(ctx, db, full, free) }()
	var (
		h      entryHasher
		prev   []byte
		hexSum [2 * sha256.Size]byte
	)
	for b := range full {
		for i := range b.seqs {
			if p.broken != nil {
				break
			}
			seq := b.seqs[i]
			at, actor, action, subject, details, prevH, got := b.entry(i)
			if !p.seen {
				p.seen, p.firstSeq, p.firstPrev = true, seq, append([]byte(nil), prevH...)
			} else {
				switch {
				case seq != p.lastSeq+1:
					p.broken = &BrokenError{Seq: p.lastSeq + 1, Reason: fmt.Sprintf("entry missing (next entry is seq %d)", seq)}
					continue
				case !bytes.Equal(prevH, prev):
					p.broken = &BrokenError{Seq: seq, Reason: "prev_hash does not match the previous entry's hash"}
					continue
				}
			}
			sum := h.sum(seq, at, actor, action, subject, details, prevH)
			hex.Encode(hexSum[:], sum[:])
			if !bytes.Equal(hexSum[:], got) {
				p.broken = &BrokenError{Seq: seq, Reason: "hash does not match the entry's contents"}
				continue
			}
			if cp, ok := want[seq]; ok && cp != string(got) {
				p.broken = &BrokenError{Seq: seq, Reason: fmt.Sprintf("hash differs from the checkpoint %d:%s (the chain was rewritten)", seq, cp)}
				continue
			}
			prev = append(prev[:0], got...)
			p.rows, p.lastSeq = p.rows+1, seq
		}
		if p.broken != nil {
			cancel() // the reader stops at its next row; keep draining until it closes full
		}
		free <- b
	}
	p.lastHash = prev
	if err := <-readErr; err != nil && p.broken == nil {
		p.err = err
	}
}

// batchSize is how many entries one batch holds: big enough to amortise the hand-over,
// small enough that the few batches in flight stay well under a megabyte.
const batchSize = 1024

// batch is a run of entries in seq order, their seven text columns packed in one buffer.
type batch struct {
	seqs []int64
	buf  []byte
	ends [][7]int // end offsets in buf of at, actor, action, subject, details, prev_hash, hash
}

func (b *batch) entry(i int) (at, actor, action, subject, details, prevHash, hash []byte) {
	start := 0
	if i > 0 {
		start = b.ends[i-1][6]
	}
	e := b.ends[i]
	return b.buf[start:e[0]], b.buf[e[0]:e[1]], b.buf[e[1]:e[2]], b.buf[e[2]:e[3]], b.buf[e[3]:e[4]], b.buf[e[4]:e[5]], b.buf[e[5]:e[6]]
}

// read streams the range in seq order into batches from free, sends them on full,
// and closes full at the end (or when ctx is cancelled).
func (p *part) read(ctx context.Context, db *sql.DB, full, free chan *batch) error {
	defer close(full)
	lo, hi := p.lo, p.hi
	if p.open {
		lo = math.MinInt64
	}
	if p.last {
		hi = math.MaxInt64
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log
		WHERE seq >= ? AND seq < ? ORDER BY seq`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	var seq int64
	var cols [7]sql.RawBytes
	b := <-free
	b.seqs, b.buf, b.ends = b.seqs[:0], b.buf[:0], b.ends[:0]
	for rows.Next() {
		if err := rows.Scan(&seq, &cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6]); err != nil {
			return err
		}
		var e [7]int
		for i, c := range cols {
			b.buf = append(b.buf, c...)
			e[i] = len(b.buf)
		}
		b.seqs, b.ends = append(b.seqs, seq), append(b.ends, e)
		if len(b.seqs) == batchSize {
			select {
			case full <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			b = <-free
			b.seqs, b.buf, b.ends = b.seqs[:0], b.buf[:0], b.ends[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(b.seqs) > 0 {
		full <- b
	}
	return nil
}

// EntryHash is the hash an entry with these columns must carry: what anyone checking an
// export of the trail recomputes for each row.
func EntryHash(seq int64, at, actor, action, subject, details, prevHash string) string {
	return hash(seq, at, actor, action, subject, details, prevHash)
}
