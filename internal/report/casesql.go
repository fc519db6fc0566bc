package report

import (
	"bytes"
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The cases report runs to a million rows. Reading its sixteen columns through
// database/sql costs two allocations a cell, and having SQLite write the CSV itself
// (neutralizing, quoting and strftime in SQL) costs more in SQLite's expression VM than it
// saves (BENCHMARKS.md, "CSV export of 1,000,000 cases"). So SQLite joins each case's
// cells into one TEXT value (casesFast: the cells between unit separators, 0x1F, a byte no
// name is expected to hold), Go reads that value as sql.RawBytes (no copy of its own) and
// writes the record into the chunk's buffer as Neutralize and encoding/csv would
// (TestCasesRowMatchesGoWriter holds it byte for byte). A value with more separators than
// cells has a cell holding one: that case alone is read again packed without doubt
// (casesRow: each text as its length in bytes, ':' and its bytes). The integration's
// name and the assignee's email come from maps loaded once, not from a join per row.

const unitSep = 0x1F

// casesCells is how many values casesFast joins (the rowid, then the cells).
const casesCells = 15

// casesFast is the select list of the cases report's chunks: the case's rowid, then its
// cells as casesRow orders them, joined by unit separators.
func casesFast(now int64) string {
	return "concat_ws('\x1f', rowid, reference, provider, integration_id, full_name, risk_level, status, result, " +
		"coalesce(assignee_id, ''), coalesce(created_at, ''), coalesce(first_decided_at, ''), coalesce(decision, ''), " +
		"coalesce(reason_code, ''), coalesce(sla_due, ''), " + breachedSQL(now) + ")"
}

// appendFastRecord appends the CSV record of one casesFast value; ok is false when the
// value holds a separator of its own (then read the case by its rowid with casesRow).
func appendFastRecord(dst, row []byte, integrations, users map[string][]byte) (out []byte, rowid int64, ok bool, err error) {
	var c [casesCells][]byte
	n := 0 // separators seen
	for n < casesCells-1 {
		i := bytes.IndexByte(row, unitSep)
		if i < 0 {
			break
		}
		c[n], row = row[:i], row[i+1:]
		n++
	}
	c[n] = row
	if bytes.IndexByte(row, unitSep) >= 0 {
		n++ // a separator too many
	}
	p := packed{}
	rowid, perr := parseInt(c[0])
	if perr != nil {
		return dst, 0, false, errPacked
	}
	if n != casesCells-1 {
		return dst, rowid, false, nil
	}
	dst = appendCell(dst, c[1]) // reference
	dst = append(dst, ',')
	dst = appendCell(dst, c[2]) // provider
	dst = append(dst, ',')
	dst = append(dst, integrations[string(c[3])]...)
	dst = append(dst, ',')
	dst = appendCell(dst, c[4]) // applicant name
	for _, w := range c[5:8] {  // risk, status, result: words a CHECK constraint allows, nothing to quote
		dst = append(dst, ',')
		dst = append(dst, w...)
	}
	dst = append(dst, ',')
	if len(c[8]) > 0 {
		dst = append(dst, users[string(c[8])]...)
	}
	dst = append(dst, ',')
	dst = p.appendTime(dst, c[9]) // created_at
	dst = append(dst, ',')
	dst = p.appendTime(dst, c[10]) // first_decided_at
	dst = append(dst, ',')
	dst = appendCell(dst, c[11]) // decision
	dst = append(dst, ',')
	dst = appendCell(dst, c[12]) // reason code
	dst = append(dst, ',')
	dst = p.appendTime(dst, c[13]) // sla_due
	dst, err = p.appendBreached(dst, c[14])
	return dst, rowid, true, err
}

// breachedSQL is slaCase.breached in SQL: the decision's time, or for an open case now (or
// when its running pause began), after sla_due, which already includes finished pauses.
func breachedSQL(now int64) string {
	n := strconv.FormatInt(now, 10)
	end := "CASE WHEN status IN ('approved', 'rejected') AND decided_at IS NOT NULL THEN decided_at" +
		" WHEN sla_paused_at IS NOT NULL AND " + n + " > sla_paused_at THEN sla_paused_at ELSE " + n + " END"
	return "CASE WHEN sla_due IS NOT NULL AND (" + end + ") > sla_due THEN 'y' ELSE 'n' END"
}

// casesRow is the select list of the cases report's chunks. now (unix milliseconds)
// decides sla_breached, as slaCase.breached does: 'y' or 'n' closes the value.
func casesRow(now int64) string {
	text := func(col string) string { return "octet_length(" + col + "), ':', " + col }
	word := func(col string) string { return col + ", ','" }
	return "concat(" + text("reference") + ", " + text("provider") + ", " + text("integration_id") + ", " + text("full_name") + ", " +
		word("risk_level") + ", " + word("status") + ", " + word("result") + ", " + word("assignee_id") + ", " +
		word("created_at") + ", " + word("first_decided_at") + ", " + text("decision") + ", " + text("reason_code") + ", " +
		word("sla_due") + ", " + breachedSQL(now) + ")"
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
func (p *packed) time(dst []byte) []byte { return p.appendTime(dst, p.word()) }

func (p *packed) appendTime(dst, w []byte) []byte {
	if len(w) == 0 {
		return dst
	}
	ms, err := parseInt(w)
	if err != nil {
		p.err = err
		return dst
	}
	return appendISO(dst, ms)
}

// appendBreached appends the last cell, from 'y' or 'n', and the line end.
func (p *packed) appendBreached(dst, w []byte) ([]byte, error) {
	switch {
	case p.err != nil:
		return dst, p.err
	case len(w) == 1 && w[0] == 'y':
		return append(dst, ",yes\n"...), nil
	case len(w) == 1 && w[0] == 'n':
		return append(dst, ",no\n"...), nil
	}
	return dst, errPacked
}

// parseInt reads a decimal integer as SQLite writes one.
func parseInt(w []byte) (int64, error) {
	neg := len(w) > 0 && w[0] == '-'
	if neg {
		w = w[1:]
	}
	if len(w) == 0 {
		return 0, errPacked
	}
	var v int64
	for _, c := range w {
		if c < '0' || c > '9' || v > (1<<62)/10 {
			return 0, errPacked
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, nil
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
	return p.appendBreached(dst, p.b)
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
