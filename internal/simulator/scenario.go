package simulator

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/simulator/persona"
)

// Verification is one scripted verification: a person, an outcome, and the provider sessions
// (rounds) it took, oldest first. Everything in it follows from the generator's seed and index.
type Verification struct {
	Index    int
	Provider string
	Outcome  string // the newest session's outcome
	Person   persona.Person
	// SamePersonAs is the index of an earlier verification of the same person (a new session
	// later, under a new reference), or -1.
	SamePersonAs int

	// Reference is what kycdesk keys the case on: the generic verification.reference,
	// FPT.AI's client_uuid (empty when the session has none), FrankieOne's entityId.
	Reference string
	Sessions  []Session

	Duplicate  bool // the first delivery is redelivered, byte for byte
	OutOfOrder bool // an older session's result arrives after the newer one

	// FrankieOne: the entity's documents.
	DocumentID, SelfieDocumentID string
	// EntityNotice adds an entity-only notification (EntityRiskChanged) after the workflow one.
	EntityNotice bool
	// InlineFront sends the generic event's front image as data_base64 rather than a URL.
	InlineFront bool
	// CustomerRef is the extra field an FPT.AI proxy puts beside a wrapped result.
	CustomerRef string
}

// Session is one provider run for a verification.
type Session struct {
	ID        string    // generic webhook-id, FPT.AI uuid, FrankieOne workflowExecutionId
	Outcome   string    // outcome name (see Outcomes)
	Variant   uint64    // picks the error code, score jitter, selfie pose
	At        time.Time // when the provider finished it
	RequestID string    // FrankieOne: the notification's requestId
}

// generator makes verifications deterministically from a seed: verification i depends only
// on (seed, i), so a run can be replayed and any single verification regenerated.
type generator struct {
	seed       uint64
	provider   string
	mix        Mix
	duplicates float64
	outOfOrder float64
	base       time.Time
	tag        string // short run tag derived from the seed, keeps references unique across seeds
}

func newGenerator(seed int64, provider string, mix Mix, duplicates, outOfOrder float64, base time.Time) *generator {
	s := uint64(seed)
	r := rand.New(rand.NewPCG(s, 0x7a6))
	const alphabet = "abcdefghjkmnpqrstvwxyz23456789"
	var tag strings.Builder
	for range 5 {
		tag.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return &generator{seed: s, provider: provider, mix: mix, duplicates: duplicates, outOfOrder: outOfOrder,
		base: base.UTC().Truncate(time.Second), tag: tag.String()}
}

// samePersonRate is how often a verification is of someone verified earlier in the run.
const samePersonRate = 0.04

func (g *generator) rng(i int, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed^salt, uint64(i)))
}

// personIndex follows "same person as" links back to the verification that introduced the person.
func (g *generator) personIndex(i int) int {
	for i > 0 {
		r := g.rng(i, 0x9e37)
		if r.Float64() >= samePersonRate {
			return i
		}
		i = r.IntN(i)
	}
	return 0
}

func (g *generator) person(k int) persona.Person {
	r := g.rng(k, 0x5ee0)
	country := persona.Vietnam
	switch g.provider {
	case Generic:
		if r.IntN(10) < 3 {
			country = persona.Australia
		}
	case FrankieOne:
		if r.IntN(10) < 6 {
			country = persona.Australia
		}
	}
	p := persona.Generate(r, country, g.base)
	p.ExternalID = fmt.Sprintf("cust-%s-%05d", g.tag, k)
	return p
}

// Verification i of the run.
func (g *generator) verification(i int) *Verification {
	r := g.rng(i, 0)
	v := &Verification{Index: i, Provider: g.provider, SamePersonAs: -1}
	if k := g.personIndex(i); k != i {
		v.SamePersonAs = k
		v.Person = g.person(k)
	} else {
		v.Person = g.person(i)
	}
	v.Outcome = g.mix.pick(r)
	v.Duplicate = r.Float64() < g.duplicates
	v.OutOfOrder = r.Float64() < g.outOfOrder
	at := g.base.Add(time.Duration(i) * time.Second)

	newSession := func(outcome string, at time.Time) Session {
		s := Session{Outcome: outcome, Variant: r.Uint64(), At: at}
		switch g.provider {
		case Generic:
			s.ID = "msg_" + ulid(r, at)
		case FPTAI:
			s.ID = uuid4(r)
		case FrankieOne:
			s.ID = ulid(r, at.Add(-40*time.Second)) // the execution started before it ended
			s.RequestID = ulid(r, at)
		}
		return s
	}
	if v.OutOfOrder {
		// The older round: something that needed another go, then the newer, final one.
		older := map[string]string{Generic: "manual", FPTAI: "lowconf", FrankieOne: "pep"}[g.provider]
		if r.IntN(3) == 0 && g.provider == FPTAI {
			older = "error"
		}
		v.Sessions = append(v.Sessions, newSession(older, at.Add(-20*time.Minute)))
	}
	v.Sessions = append(v.Sessions, newSession(v.Outcome, at))

	switch g.provider {
	case Generic:
		v.Reference = fmt.Sprintf("vrf-%s-%06d", g.tag, i)
		v.InlineFront = r.IntN(4) == 0
	case FPTAI:
		// FPT.AI sessions carry client_uuid only where the customer's flow sets one; an
		// out-of-order pair needs it to be one case.
		if v.OutOfOrder || v.Outcome != "error" || r.IntN(2) == 0 {
			v.Reference = fmt.Sprintf("cust-%s-%06d", g.tag, i)
		}
		v.CustomerRef = fmt.Sprintf("loan-app-%s-%05d", g.tag, i)
	case FrankieOne:
		v.Reference = uuid4(r)
		v.DocumentID = "doc-" + strings.ToLower(ulid(r, at)[16:])
		v.SelfieDocumentID = "doc-selfie-" + strings.ToLower(ulid(r, at)[16:])
		v.EntityNotice = r.IntN(10) == 0
	}
	return v
}

// ImageID names the session's pictures under /img/{kind}/{ImageID}.
func (v *Verification) ImageID(s Session) string {
	if v.Provider == FrankieOne {
		return v.Reference
	}
	return s.ID
}

// Latest is the newest session.
func (v *Verification) Latest() Session { return v.Sessions[len(v.Sessions)-1] }

// uuid4 is a random (version 4) UUID drawn from r, so it is reproducible from the seed.
func uuid4(r *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.Uint64())
	binary.BigEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ulid is a ULID (Crockford base32, 48-bit millisecond time + 80 random bits), the shape of
// FrankieOne's request and execution ids.
func ulid(r *rand.Rand, t time.Time) string {
	const enc = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	binary.BigEndian.PutUint64(b[6:14], r.Uint64())
	binary.BigEndian.PutUint16(b[14:16], uint16(r.Uint32()))
	// 128 bits → 26 characters of 5 bits, the first holding the top 3 bits.
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = enc[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
