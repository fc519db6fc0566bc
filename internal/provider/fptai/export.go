package fptai

import "time"

// ParseDate reads a date as FPT.AI writes it on a card (dd/mm/yyyy, also with - or . and
// single-digit day or month), refusing impossible ones. Other packages check card dates with it.
func ParseDate(s string) (time.Time, bool) { return parseDMY(s) }

// MRZLines splits an MRZ value into its lines, however FPT.AI sent it (see mrzLines).
func MRZLines(v string) []string { return mrzLines(v) }
