package report

import (
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The cases report runs to a million rows. Reading its sixteen columns through
// database/sql costs two allocations a cell, and having SQLite write the CSV itself
// (neutralizing, quoting and strftime in SQL) costs more in SQLite's expression VM than it
// saves (BENCHMARKS.md, "CSV export of 1,000,000 cases"). So SQLite packs each case into
// one TEXT value, cheaply: every text as its length in bytes, ':' and its bytes (NULL:
// no length), every number or CHECK-constrained word followed by ','. Go reads that one
// value as sql.RawBytes (no copy of its own) and writes the record into the chunk's
// buffer as Neutralize and encoding/csv would (TestCasesRowMatchesGoWriter holds it byte
// for byte). The integration's name and the assignee's email come from maps loaded once,
// not from a join per row.

// casesRow is the select list of the cases report's chunks. now (unix milliseconds)
// decides sla_breached, as slaCase.breached does: 'y' or 'n' closes the value.
func casesRow(now int64) string {
	n := strconv.FormatInt(now, 10)
	text := func(col string) string { return "octet_length(" + col + "), ':', " + col }
	word := func(col string) string { return col + ", ','" }
	decided := "CASE WHEN status IN ('approved', 'rejected') AND decided_at IS NOT NULL THEN decided_at ELSE " + n + " END"
	paused := "sla_paused_ms + CASE WHEN sla_paused_at IS NOT NULL AND " + n + " > sla_paused_at THEN " + n + " - sla_paused_at ELSE 0 END"
	breached := "CASE WHEN sla_due IS NOT NULL AND (" + decided + ") > sla_due + " + paused + " THEN 'y' ELSE 'n' END"
	return "concat(" + text("reference") + ", " + text("provider") + ", " + text("integration_id") + ", " + text("full_name") + ", " +
		word("risk_level") + ", " + word("status") + ", " + word("result") + ", " + word("assignee_id") + ", " +
		word("created_at") + ", " + word("first_decided_at") + ", " + text("decision") + ", " + text("reason_code") + ", " +
		word("sla_due") + ", " + breached + ")"
}

var errPacked = errors.New("report: a packed cases row does not parse")

// packed reads a casesRow value.
type packed struct {
	b   []byte
	err error
}

// text is the next length-prefixed text (NULL reads as empty).
func (p *packed) text() []byte {
	n := 0
	for i, c := range p.b {
		switch {
		case c >= '0' && c <= '9' && n < 1<<30:
			n = n*10 + int(c-'0')
			continue
		case c == ':' && len(p.b) >= i+1+n:
			v := p.b[i+1 : i+1+n]
			p.b = p.b[i+1+n:]
			return v
		}
		break
	}
	p.err = errPacked
	p.b = nil
	return nil
}

// word is the next ','-terminated word or number (NULL reads as empty).
func (p *packed) word() []byte {
	for i, c := range p.b {
		if c == ',' {
			v := p.b[:i]
			p.b = p.b[i+1:]
			return v
		}
	}
	p.err = errPacked
	p.b = nil
	return nil
}

// time appends a word holding unix milliseconds as appendISO writes them (empty: NULL).
func (p *packed) time(dst []byte) []byte {
	w := p.word()
	if len(w) == 0 {
		return dst
	}
	neg := w[0] == '-'
	if neg {
		w = w[1:]
	}
	if len(w) == 0 {
		p.err = errPacked
		return dst
	}
	var ms int64
	for _, c := range w {
		if c < '0' || c > '9' || ms > (1<<62)/10 {
			p.err = errPacked
			return dst
		}
		ms = ms*10 + int64(c-'0')
	}
	if neg {
		ms = -ms
	}
	return appendISO(dst, ms)
}

// appendCasesRecord appends the CSV record (line end included) of one casesRow value.
// integrations maps an integration's id, users an assignee's id (as text), to their cells,
// already encoded by appendCell.
func appendCasesRecord(dst, row []byte, integrations, users map[string][]byte) ([]byte, error) {
	p := packed{b: row}
	dst = appendCell(dst, p.text()) // reference
	dst = append(dst, ',')
	dst = appendCell(dst, p.text()) // provider
	dst = append(dst, ',')
	dst = append(dst, integrations[string(p.text())]...)
	dst = append(dst, ',')
	dst = appendCell(dst, p.text()) // applicant name
	for range 3 {                   // risk, status, result: words a CHECK constraint allows, nothing to quote
		dst = append(dst, ',')
		dst = append(dst, p.word()...)
	}
	dst = append(dst, ',')
	if a := p.word(); len(a) > 0 {
		dst = append(dst, users[string(a)]...)
	}
	dst = append(dst, ',')
	dst = p.time(dst) // created_at
	dst = append(dst, ',')
	dst = p.time(dst) // first_decided_at
	dst = append(dst, ',')
	dst = appendCell(dst, p.text()) // decision
	dst = append(dst, ',')
	dst = appendCell(dst, p.text()) // reason code
	dst = append(dst, ',')
	dst = p.time(dst) // sla_due
	switch {
	case p.err != nil:
		return dst, p.err
	case len(p.b) == 1 && p.b[0] == 'y':
		dst = append(dst, ",yes\n"...)
	case len(p.b) == 1 && p.b[0] == 'n':
		dst = append(dst, ",no\n"...)
	default:
		return dst, errPacked
	}
	return dst, nil
}

// appendCell appends v as one CSV cell: Neutralize(v), quoted as encoding/csv's Writer
// quotes a field (TestAppendCellMatchesCSVWriter holds it to both).
func appendCell(dst, v []byte) []byte {
	if len(v) == 0 {
		return dst
	}
	neutral := false
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		neutral = true
	}
	quote := len(v) == 2 && v[0] == '\\' && v[1] == '.'
	if !quote {
		for _, c := range v {
			if c == '"' || c == ',' || c == '\n' || c == '\r' {
				quote = true
				break
			}
		}
	}
	if !quote && !neutral {
		// A field beginning with a Unicode space is quoted (a neutralized one begins with ';
		// tab and CR neutralize).
		if c := v[0]; c < utf8.RuneSelf {
			quote = c == ' ' || c == '\n' || c == '\v' || c == '\f'
		} else {
			r, _ := utf8.DecodeRune(v)
			quote = unicode.IsSpace(r)
		}
	}
	if !quote {
		if neutral {
			dst = append(dst, '\'')
		}
		return append(dst, v...)
	}
	dst = append(dst, '"')
	if neutral {
		dst = append(dst, '\'')
	}
	for _, c := range v {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
