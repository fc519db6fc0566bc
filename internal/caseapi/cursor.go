package caseapi

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// A cursor is the position of a page's last case in the list's order (its change_seq),
// sealed with the master key: clients cannot read, forge or edit it, and one issued by
// another installation does not open here.
var cursorAD = []byte("kycdesk api/v1 cases cursor")

const cursorVersion = 1

func (r *Reader) sealCursor(seq int64) string {
	var b [9]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], uint64(seq))
	return base64.RawURLEncoding.EncodeToString(r.Sealer.Seal(b[:], cursorAD))
}

var errCursor = errors.New("caseapi: bad cursor")

func (r *Reader) openCursor(s string) (int64, error) {
	if len(s) > 128 {
		return 0, errCursor
	}
	ct, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, errCursor
	}
	b, err := r.Sealer.Open(ct, cursorAD)
	if err != nil || len(b) != 9 || b[0] != cursorVersion {
		return 0, errCursor
	}
	seq := int64(binary.BigEndian.Uint64(b[1:]))
	if seq < 0 {
		return 0, errCursor
	}
	return seq, nil
}
