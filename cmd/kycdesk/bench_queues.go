package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/valyala/fasthttp"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/id"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/lowprio"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// benchQueues is `kycdesk bench queues`: the queue pages and the case page of a large
// database, read by a signed-in analyst at a steady rate while signed deliveries arrive
// and the inbox worker turns them into cases (issue 11, "Queue speed at scale").
func (m *Main) benchQueues(ctx context.Context, args []string) error {
	f := newFlags("bench queues")
	n := f.Int("cases", 1_000_000, "cases in the database (seeded once per data dir)")
	rate := f.Int("rate", 300, "queue page requests per second")
	caseRate := f.Int("case-rate", 30, "case page requests per second (besides --rate)")
	deliveries := f.Int("deliveries", 1000, "signed generic deliveries per second meanwhile (0: none)")
	seconds := f.Int("seconds", 20, "how long the load runs (after --warmup)")
	warmup := f.Int("warmup", 5, "seconds of the same load before the measured run, reported on a line of their own (the first seconds after a start fill the read connections' caches)")
	dataDir := f.String("data", "", "data dir to seed or reuse (default: a temporary one, removed afterwards)")
	nameSearches := f.Bool("name-searches", true, "include searches for full names of common words (see BENCHMARKS.md)")
	searchShare := f.Int("search-share", 30, "per cent of the queue page requests that are searches")
	cpuProfile := f.String("cpuprofile", "", "write a CPU profile of the load run to this file (for tuning)")
	clientNice := f.Int("client-nice", lowprio.Nice, "niceness of the load generator's senders, which share the machine with the server (0: the server's)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *n < 1000 || *rate < 1 || *seconds < 1 || *deliveries < 0 || *caseRate < 0 || *searchShare < 0 || *searchShare > 100 || *warmup < 0 {
		return usagef("bench queues: --cases must be at least 1000; --rate and --seconds at least 1; --warmup at least 0; --search-share 0 to 100")
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "kycdesk-bench-queues-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	st, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	fx, err := seedQueueBench(ctx, m, st, *n)
	if err != nil {
		st.Close()
		return err
	}
	// Deliveries go to a new generic integration each run: its secret is shown only once.
	in, secret, err := integration.NewStore(st.db, st.sealer).Create(ctx, "cli", integration.Spec{
		Name: fmt.Sprintf("bench-deliveries-%d", time.Now().UnixNano()), Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	st.Close()
	if err != nil {
		return err
	}

	// The real server, wired as `kycdesk serve` wires it (inbox worker on), on loopback.
	// Its JSON log is read here: each request's access-log line carries the server's own
	// duration, which is the "server time" reported below.
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.InsecureCookies = "127.0.0.1:0", dir, true
	cfg.PublicURL = "http://" + cfg.Addr
	logR, logW := io.Pipe()
	serverTimes := newAccessLog()
	go serverTimes.read(logR)
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	started := make(chan string, 1)
	done := make(chan error, 1)
	srvMain := &Main{Stdout: io.Discard, Stderr: logW, Getenv: func(string) string { return "" }}
	go func() { done <- srvMain.runServer(srvCtx, cfg, func(base string) { started <- base }); logW.Close() }()
	var base string
	select {
	case base = <-started:
	case err := <-done:
		return fmt.Errorf("bench queues: server: %w", err)
	}

	cookie, err := signInBench(base, fx.email, fx.password, fx.totpSecret)
	if err != nil {
		// The code's 30-second step was used already (by the previous run): sign in with the next one.
		wait := time.Until(time.Unix((time.Now().Unix()/30+1)*30, 0)) + time.Second
		m.printf("bench queues: %v; signing in again in %s with the next TOTP step\n", err, wait.Round(time.Second))
		time.Sleep(wait)
		cookie, err = signInBench(base, fx.email, fx.password, fx.totpSecret)
	}
	if err != nil {
		stop()
		<-done
		return fmt.Errorf("bench queues: sign in: %w", err)
	}
	m.printf("bench queues: %d cases; signed in as %s (password + TOTP over HTTP); %d page requests/s + %d case pages/s, %d deliveries/s, %ds after %ds of warm-up; load generator at niceness %d\n",
		fx.cases, fx.email, *rate, *caseRate, *deliveries, *seconds, *warmup, *clientNice)

	ld := &queueLoad{clientNice: *clientNice, searchShare: *searchShare, base: base, cookie: cookie, fx: fx, log: serverTimes,
		client: &fasthttp.Client{MaxConnsPerHost: 2048, ReadTimeout: 30 * time.Second, WriteTimeout: 10 * time.Second,
			MaxIdleConnDuration: 30 * time.Second, ReadBufferSize: 16 << 10,
			Dial: func(addr string) (net.Conn, error) { return fasthttp.DialTimeout(addr, 5*time.Second) }}}
	// Deep pages: streams that follow their Next links, walked 20 pages in before the clock starts.
	if err := ld.warmStreams(ctx, 24, 20); err != nil {
		stop()
		<-done
		return err
	}
	waitSearchIndex(m, "bench queues", base)
	// A backlog left by an earlier run would have the worker writing all through this one.
	for wait := time.Now(); workerBacklog(base+"/metrics") > 0 && time.Since(wait) < 2*time.Minute; {
		time.Sleep(500 * time.Millisecond)
	}
	if !*nameSearches {
		fx.medTerms = nil
	}
	serverTimes.reset()

	key, _ := webhookauth.ParseSecret(secret)
	gen := newLoadGen(base+in.WebhookPath(), key, fmt.Sprintf("bq%d", time.Now().UnixNano()), 128)
	warm := time.Duration(*warmup) * time.Second
	loadCtx, cancel := context.WithTimeout(ctx, warm+time.Duration(*seconds)*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var dl deliveryCount
	stopProfile, err := startCPUProfile("bench queues", *cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	// The measured run starts after the warm-up, the load going on without a break: what
	// it counts (deliveries, CPU, waits) is taken at that moment.
	ld.warmup, ld.measureFrom = warm, time.Now().Add(warm)
	t0 := ld.measureFrom
	var waits0 poolWaits
	var acked0, failed0 int64
	var cpu0 time.Duration
	marked := make(chan struct{})
	mark := time.AfterFunc(warm, func() {
		cpu0, acked0, failed0 = cpuTime(), dl.acked.Load(), dl.failed.Load()
		waits0 = readPoolWaits(base + "/metrics")
		close(marked)
	})
	defer mark.Stop()
	wg.Add(3)
	go func() { defer wg.Done(); ld.paced(loadCtx, *rate, 256, ld.page) }()
	go func() {
		defer wg.Done()
		if *caseRate > 0 {
			ld.paced(loadCtx, *caseRate, 32, ld.casePage)
		}
	}()
	go func() {
		defer wg.Done()
		if *deliveries > 0 {
			ld.paced(loadCtx, *deliveries, 128, func(ctx context.Context) { dl.send(ctx, gen) })
		}
	}()
	wg.Wait()
	<-marked
	elapsed := time.Since(t0)
	cpu := cpuTime() - cpu0
	lag := workerBacklog(base + "/metrics")
	waits := readPoolWaits(base + "/metrics")
	waits.n, waits.seconds = waits.n-waits0.n, waits.seconds-waits0.seconds
	stop()
	if err := <-done; err != nil {
		return fmt.Errorf("bench queues: server: %w", err)
	}
	serverTimes.wait()
	ld.report(m, elapsed, dl.acked.Load()-acked0, dl.failed.Load()-failed0, lag, cpu)
	m.printf("read connections (kycdesk.db): requests waited for one %.0f times, %.1f s in all\n", waits.n, waits.seconds)
	return nil
}

// queueBenchFixture is what the load needs from the seeded database.
type queueBenchFixture struct {
	cases                         int
	email, password, totpSecret   string
	caseIDs                       []string // a sample, for the case page
	rareTerms, medTerms, bigTerms []string // searches by how many cases they match
}

const benchPassword = "bench-queues-Ngựa-vằn-42"

// seedQueueBench fills st with n cases unless it holds them already, and returns the
// analyst to sign in as, a sample of case ids and search terms. The cases are written
// with bulk multi-row INSERTs in transactions of 5,000 (not through the worker), so that
// a million take minutes rather than an hour: the schema's triggers (tallies, search
// index, API read model) run on every row as they do in production.
func seedQueueBench(ctx context.Context, m *Main, st *store, n int) (*queueBenchFixture, error) {
	fx := &queueBenchFixture{password: benchPassword}
	var have int
	if err := st.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM cases`).Scan(&have); err != nil {
		return nil, err
	}
	users := auth.NewUsers(st.db, auth.NewHasher(0), st.sealer, nil)
	fx.email = "bench.analyst@example.com"
	secretFile := filepath.Join(filepath.Dir(st.db.Path), "bench-analyst-totp")
	if have == 0 {
		if err := seedBenchCases(ctx, m, st, users, n, secretFile); err != nil {
			return nil, err
		}
		have = n
	} else {
		m.printf("bench queues: reusing %s (%d cases)\n", filepath.Dir(st.db.Path), have)
	}
	// A data dir seeded before the seed wrote id_number_hash: finish the server's start-up
	// backfill now, or it would run through the load.
	if n, err := (&cases.Store{DB: st.db, Sealer: st.sealer}).BackfillIDNumberHashes(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		m.printf("bench queues: backfilled id_number_hash of %d cases before the load\n", n)
	}
	fx.cases = have
	b, err := os.ReadFile(secretFile)
	if err != nil {
		return nil, fmt.Errorf("bench queues: %s was not seeded by bench queues: %w", filepath.Dir(st.db.Path), err)
	}
	fx.totpSecret = strings.TrimSpace(string(b))

	// A sample of cases for the case page and for rare searches (a reference, an external id).
	var maxRowid int64
	if err := st.db.Read.QueryRowContext(ctx, `SELECT max(rowid) FROM cases`).Scan(&maxRowid); err != nil {
		return nil, err
	}
	sample := make([]string, 256)
	for i := range sample {
		sample[i] = strconv.FormatInt(1+rand.Int64N(maxRowid), 10)
	}
	rows, err := st.db.Read.QueryContext(ctx, `SELECT id, reference, external_id FROM cases
		WHERE rowid IN (SELECT value FROM json_each(?))`, "["+strings.Join(sample, ",")+"]")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var caseID, ref, ext string
		if err := rows.Scan(&caseID, &ref, &ext); err != nil {
			return nil, err
		}
		fx.caseIDs = append(fx.caseIDs, caseID)
		if len(fx.rareTerms) < 40 {
			fx.rareTerms = append(fx.rareTerms, ref, ext, ref[len(ref)-5:]) // whole, external id, and a piece from the middle
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Given names and full names match hundreds to thousands; surnames and unmarked
	// words tens of thousands and more.
	fx.medTerms = []string{"Nguyễn Thị Hương", "Trần Văn Dũng", "Lê Minh Khánh", "Phạm Thu Trang", "Hoàng Yến",
		"Bích Ngọc", "Võ Quốc Huy", "Đặng Hải", "Bùi Thanh Tâm", "Ngô Gia Bảo", "Thảo", "Quân", "Khánh Linh"}
	fx.bigTerms = []string{"Nguyễn", "nguyen", "Trần", "Lê", "huong", "Hương", "Thị", "van", "ương", "anh", "Đức", "duc", "Phạm Văn"}
	return fx, nil
}

// Names drawn for the seeded applicants, surnames with roughly their frequency in Vietnam.
var (
	benchSurnames = []struct {
		name   string
		weight int
	}{{"Nguyễn", 38}, {"Trần", 11}, {"Lê", 9}, {"Phạm", 7}, {"Hoàng", 5}, {"Huỳnh", 4}, {"Phan", 4}, {"Vũ", 4},
		{"Võ", 3}, {"Đặng", 2}, {"Bùi", 2}, {"Đỗ", 1}, {"Hồ", 1}, {"Ngô", 1}, {"Dương", 1}, {"Lý", 1}}
	benchMiddleM = []string{"Văn", "Minh", "Đức", "Hữu", "Quốc", "Thanh", "Gia", "Công", "Xuân", "Hoàng"}
	benchMiddleF = []string{"Thị", "Thu", "Ngọc", "Thanh", "Minh", "Khánh", "Bích", "Hoài", "Phương", "Kim"}
	benchGivenM  = []string{"Dũng", "Hùng", "Tuấn", "Nam", "Long", "Quân", "Huy", "Hiếu", "Đức", "Khánh", "Bảo", "Hải",
		"Phúc", "Thắng", "Sơn", "Trung", "Vinh", "Hướng", "Tâm", "Anh", "Toàn", "Cường", "Lộc", "Thịnh"}
	benchGivenF = []string{"Hương", "Linh", "Trang", "Thảo", "Lan", "Mai", "Hà", "Phương", "Ngọc", "Yến", "Vy", "Hạnh",
		"Nhung", "Oanh", "Thủy", "Anh", "Nga", "Hằng", "Quỳnh", "Chi", "Giang", "Tâm", "My", "Trâm"}
)

// seedBenchCases writes the analyst the load signs in as (password, TOTP enrolled through
// the user store), 24 more reviewers, three integrations and n cases.
func seedBenchCases(ctx context.Context, m *Main, st *store, users *auth.Users, n int, secretFile string) error {
	started := time.Now()
	u, secret, err := enrolBenchUser(ctx, users, "bench.analyst@example.com", "Bench Analyst", auth.Analyst)
	if err != nil {
		return fmt.Errorf("bench queues: %w", err)
	}
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	reviewers := []int64{u.ID}
	now := time.Now()
	hasher := &cases.Store{DB: st.db, Sealer: st.sealer} // id_number_hash, as the worker writes it
	err = st.db.Tx(ctx, func(tx *sql.Tx) error {
		for i := range 24 {
			role := "analyst"
			if i >= 19 {
				role = "lead"
			}
			// No usable password: these accounts only hold cases.
			res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
				VALUES (?, ?, ?, '!', ?, ?)`, fmt.Sprintf("reviewer%02d@example.com", i+1), fmt.Sprintf("Reviewer %d", i+1), role,
				db.Millis(now), db.Millis(now))
			if err != nil {
				return err
			}
			uid, _ := res.LastInsertId()
			reviewers = append(reviewers, uid)
		}
		return nil
	})
	if err != nil {
		return err
	}
	integ := map[string]string{}
	for _, p := range cases.Providers {
		in, _, err := integration.NewStore(st.db, st.sealer).Create(ctx, "cli", integration.Spec{
			Name: "bench-" + p, Provider: p, AuthMode: map[string]string{integration.FrankieOne: integration.AuthIP,
				integration.FPTAI: integration.AuthToken, integration.Generic: integration.AuthHMAC}[p], AllowIPs: []string{"127.0.0.1/32"}})
		if err != nil {
			return fmt.Errorf("bench queues: integration %s: %w", p, err)
		}
		integ[p] = in.ID
	}

	rng := rand.New(rand.NewPCG(42, uint64(n)))
	pick := func(weights []int) int {
		total := 0
		for _, w := range weights {
			total += w
		}
		r := rng.IntN(total)
		for i, w := range weights {
			if r < w {
				return i
			}
			r -= w
		}
		return len(weights) - 1
	}
	surnameWeights := make([]int, len(benchSurnames))
	for i, s := range benchSurnames {
		surnameWeights[i] = s.weight
	}
	// A mature desk: most cases decided, a few percent in each open queue.
	statuses := []string{"approved", "rejected", "new", "in_review", "pending_info", "escalated", "awaiting_second_approval"}
	statusWeights := []int{66, 14, 9, 4, 3, 2, 2}
	risks, riskWeights := []string{"low", "medium", "high"}, []int{60, 28, 12}
	providers, providerWeights := []string{"frankieone", "fptai", "generic"}, []int{40, 40, 20}
	const batch = 5000
	first := now.Add(-365 * 24 * time.Hour)
	m.printf("bench queues: seeding %d cases by bulk INSERT (5,000 a transaction, every trigger on) ...\n", n)
	for start := 0; start < n; start += batch {
		var caseRows, checkRows, docRows, eventRows [][]any
		for i := start; i < min(start+batch, n); i++ {
			caseID := id.New()
			created := first.Add(time.Duration(float64(365*24*time.Hour) * float64(i) / float64(n)))
			status := statuses[pick(statusWeights)]
			risk, provider := risks[pick(riskWeights)], providers[pick(providerWeights)]
			family := benchSurnames[pick(surnameWeights)].name
			var middle, given string
			if rng.IntN(2) == 0 {
				middle, given = benchMiddleM[rng.IntN(len(benchMiddleM))], benchGivenM[rng.IntN(len(benchGivenM))]
			} else {
				middle, given = benchMiddleF[rng.IntN(len(benchMiddleF))], benchGivenF[rng.IntN(len(benchGivenF))]
			}
			full := family + " " + middle + " " + given
			var assignee, decision, decidedAt, reason any
			switch status {
			case "new":
				if rng.IntN(10) == 0 { // round-robin assigned, not yet opened
					assignee = reviewers[rng.IntN(len(reviewers))]
				}
			case "approved", "rejected":
				assignee = reviewers[rng.IntN(len(reviewers))]
				decision, reason = map[string]string{"approved": "approve", "rejected": "reject"}[status],
					map[string]string{"approved": "verified", "rejected": "document_fake"}[status]
				decidedAt = db.Millis(created.Add(time.Duration(1+rng.IntN(72)) * time.Hour))
			default:
				assignee = reviewers[rng.IntN(len(reviewers))]
			}
			sla := db.Millis(created.Add(time.Duration(map[string]int{"low": 48, "medium": 24, "high": 8}[risk])*time.Hour + time.Duration(rng.IntN(3600))*time.Second))
			if status == "new" || status == "in_review" || status == "escalated" {
				// Open work is recent: due from a day ago to two days ahead.
				sla = db.Millis(now.Add(time.Duration(rng.IntN(72*3600)-24*3600) * time.Second))
			}
			ref := fmt.Sprintf("vrf-2026-%07d", i)
			ext := fmt.Sprintf("cust-%07d", rng.IntN(10_000_000))
			idNumber := fmt.Sprintf("0%02d%d%08d", rng.IntN(96), rng.IntN(4), rng.IntN(100_000_000))
			applicant, _ := json.Marshal(map[string]string{"full_name": full, "given_name": middle + " " + given, "family_name": family,
				"external_id": ext, "id_number": idNumber,
				"date_of_birth": fmt.Sprintf("19%02d-%02d-%02d", 50+rng.IntN(50), 1+rng.IntN(12), 1+rng.IntN(28)), "nationality": "VNM",
				"address": "123 Lê Lợi, Quận 1, TP. Hồ Chí Minh"})
			// The applicant record is sealed exactly as internal/cases seals it (associated data "applicant:<id>").
			sealed := st.sealer.Seal(applicant, []byte("applicant:"+caseID))
			ms := db.Millis(created)
			result := []string{"pass", "review", "fail"}[rng.IntN(3)]
			updated := ms
			if decidedAt != nil {
				updated = decidedAt.(int64)
			}
			caseRows = append(caseRows, []any{caseID, integ[provider], provider, ref, status, result, risk, ms, assignee, decision,
				reason, decidedAt, full, middle + " " + given, family, ext, sealed, sla, ms, updated, b2i(risk == "high" && rng.IntN(3) == 0),
				hasher.IDNumberHash(idNumber)})
			checkRows = append(checkRows,
				[]any{caseID, 1, "document", "pass", 0.97, "{}"},
				[]any{caseID, 1, "liveness", "pass", 0.98, `{"is_live":true}`},
				[]any{caseID, 1, "face_match", "pass", 0.91, `{"similarity":91}`},
				[]any{caseID, 1, "pep", "clear", nil, `{}`})
			for j, kind := range []string{"id_front", "selfie"} {
				docRows = append(docRows, []any{id.New(), caseID, 1, kind, fmt.Sprintf("%s/%d", caseID, j), "image/jpeg", 48_213,
					fmt.Sprintf("%064x", i*2+j), []byte("bench: no image"), []byte("bench: no image"), ms})
			}
			eventRows = append(eventRows, []any{caseID, ms, "system:bench-" + provider, "result_received", 1, "Result received: " + result, "{}"})
			if decidedAt != nil {
				eventRows = append(eventRows, []any{caseID, decidedAt, "reviewer@example.com", "decision", 1, "Decision: " + decision.(string), "{}"})
			}
		}
		err := st.db.Tx(ctx, func(tx *sql.Tx) error {
			if err := db.InsertRows(ctx, tx, "cases", []string{"id", "integration_id", "provider", "reference", "status", "result",
				"risk_level", "result_at", "assignee_id", "decision", "reason_code", "decided_at", "full_name", "given_name",
				"family_name", "external_id", "applicant_sealed", "sla_due", "created_at", "updated_at", "four_eyes", "id_number_hash"}, caseRows); err != nil {
				return err
			}
			if err := db.InsertRows(ctx, tx, "case_checks", []string{"case_id", "round", "kind", "result", "score", "details"}, checkRows); err != nil {
				return err
			}
			if err := db.InsertRows(ctx, tx, "case_documents", []string{"id", "case_id", "round", "kind", "provider_ref", "content_type",
				"size", "sha256", "wrapped_key", "ciphertext", "created_at"}, docRows); err != nil {
				return err
			}
			return db.InsertRows(ctx, tx, "case_events", []string{"case_id", "at", "actor", "kind", "round", "body", "details"}, eventRows)
		})
		if err != nil {
			return fmt.Errorf("bench queues: seed: %w", err)
		}
		if done := start + batch; done%100_000 == 0 || done >= n {
			m.printf("  %d cases, %s\n", min(done, n), time.Since(started).Round(time.Second))
		}
	}
	if _, err := st.db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	m.printf("bench queues: seeded in %s\n", time.Since(started).Round(time.Second))
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// enrolBenchUser creates a user with benchPassword and TOTP enrolled, and returns the
// user and the TOTP secret (for signInBench).
func enrolBenchUser(ctx context.Context, users *auth.Users, email, name string, role auth.Role) (auth.User, string, error) {
	u, err := users.Create(ctx, auth.CLIActor, auth.NewUser{Email: email, Name: name, Role: role, Password: benchPassword})
	if err != nil {
		return u, "", fmt.Errorf("user %s: %w", email, err)
	}
	key, err := auth.NewTOTPKey("kycdesk", u.Email)
	if err != nil {
		return u, "", err
	}
	// Enrolled with the previous step's code, so that the current step stays free for signing in.
	code, _ := totp.GenerateCode(key.Secret(), time.Now().Add(-30*time.Second))
	if _, err := users.EnrollTOTP(ctx, u.ID, key.Secret(), code, "127.0.0.1"); err != nil {
		return u, "", fmt.Errorf("enrol TOTP of %s: %w", email, err)
	}
	return u, key.Secret(), nil
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// signInBench signs in through the real forms: GET /login, POST /login (password), GET
// /mfa, POST /mfa (the current TOTP code). It returns the session's Cookie header.
func signInBench(base, email, password, secret string) (string, error) {
	jar := map[string]string{}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (*http.Response, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			return nil, "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range jar {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, c := range resp.Cookies() {
			jar[c.Name] = c.Value
		}
		return resp, string(b), nil
	}
	csrf := func(body string) string {
		if m := csrfInput.FindStringSubmatch(body); m != nil {
			return html.UnescapeString(m[1])
		}
		return ""
	}
	_, body, err := do("GET", "/login", nil)
	if err != nil {
		return "", err
	}
	resp, body, err := do("POST", "/login", url.Values{"email": {email}, "password": {password}, "_csrf": {csrf(body)}})
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		return "", fmt.Errorf("POST /login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body, err = do("GET", "/mfa", nil)
	if err != nil {
		return "", err
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		return "", err
	}
	resp, _, err = do("POST", "/mfa", url.Values{"code": {code}, "_csrf": {csrf(body)}})
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("POST /mfa: %d (a TOTP step already used? wait 30 s and run again)", resp.StatusCode)
	}
	var parts []string
	for k, v := range jar {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; "), nil
}

// accessLog collects the server's own duration of each request from its JSON access log,
// by request id.
type accessLog struct {
	mu   sync.Mutex
	ms   map[string]float64
	done chan struct{}
}

func newAccessLog() *accessLog {
	return &accessLog{ms: map[string]float64{}, done: make(chan struct{})}
}

func (a *accessLog) read(r io.Reader) {
	defer close(a.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg       string  `json:"msg"`
			RequestID string  `json:"request_id"`
			Duration  float64 `json:"duration_ms"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "http" {
			continue
		}
		a.mu.Lock()
		a.ms[line.RequestID] = line.Duration
		a.mu.Unlock()
	}
	io.Copy(io.Discard, r)
}

func (a *accessLog) reset() {
	a.mu.Lock()
	clear(a.ms)
	a.mu.Unlock()
}

func (a *accessLog) wait() { <-a.done }

func (a *accessLog) get(rid string) (float64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.ms[rid]
	return v, ok
}

// queueLoad sends the page requests and keeps what each one measured.
type queueLoad struct {
	clientNice   int // the load generator's senders' niceness (paced)
	searchShare  int // per cent of queue page requests that are searches
	base, cookie string
	fx           *queueBenchFixture
	client       *fasthttp.Client
	log          *accessLog

	warmup      time.Duration
	measureFrom time.Time // requests sent before are the warm-up's

	mu      sync.Mutex
	samples []pageSample
	streams []*pageStream
	next    atomic.Int64
}

type pageSample struct {
	kind   string // first, filter, deep, search, case
	rid    string
	client time.Duration
	ok     bool
	warmup bool // sent during the warm-up
}

// pageStream is one reader paging through a queue view by its Next links.
type pageStream struct {
	mu    sync.Mutex
	query url.Values
	next  string // the next page's URL, "" to start over
	depth int
}

var nextLink = regexp.MustCompile(`<a href="([^"]*)" id="next-page"`)

// get fetches path with the session and returns the request id, the status and the body.
func (l *queueLoad) get(path string) (rid string, status int, body []byte, err error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(l.base + path)
	req.Header.Set("Cookie", l.cookie)
	if err := l.client.DoTimeout(req, resp, 30*time.Second); err != nil {
		return "", 0, nil, err
	}
	return string(resp.Header.Peek("X-Request-Id")), resp.StatusCode(), slices.Clone(resp.Body()), nil
}

func (l *queueLoad) record(kind, rid string, d time.Duration, ok bool) {
	l.mu.Lock()
	l.samples = append(l.samples, pageSample{kind: kind, rid: rid, client: d, ok: ok,
		warmup: time.Now().Add(-d).Before(l.measureFrom)})
	l.mu.Unlock()
}

// warmStreams starts n deep-page streams over queues and filters and walks each depth pages in.
func (l *queueLoad) warmStreams(ctx context.Context, n, depth int) error {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range n {
		q := url.Values{"queue": {cases.Queues[i%len(cases.Queues)]}}
		if i%3 == 1 {
			q.Set("risk", cases.RiskLevels[rng.IntN(3)])
		}
		if i%4 == 2 {
			q.Set("provider", cases.Providers[rng.IntN(3)])
		}
		l.streams = append(l.streams, &pageStream{query: q})
	}
	var wg sync.WaitGroup
	for _, s := range l.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range depth {
				if ctx.Err() != nil {
					return
				}
				l.step(s, false)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// step requests the stream's next page (or its first, after the end) and follows its Next link.
func (l *queueLoad) step(s *pageStream, measure bool) {
	s.mu.Lock()
	path := s.next
	if path == "" {
		path, s.depth = "/queues?"+s.query.Encode(), 0
	}
	s.mu.Unlock()
	t0 := time.Now()
	rid, status, body, err := l.get(path)
	d := time.Since(t0)
	ok := err == nil && status == 200
	var next string
	if m := nextLink.FindSubmatch(body); ok && m != nil {
		next = html.UnescapeString(string(m[1]))
	}
	s.mu.Lock()
	s.next = next
	s.depth++
	depth := s.depth
	s.mu.Unlock()
	if measure {
		kind := "deep"
		if depth <= 1 {
			kind = "first" // the stream wrapped around
		}
		l.record(kind, rid, d, ok)
	}
}

// page sends one queue page request of the mix: searchShare % searches, the rest 4 : 3
// deep pages (the streams) and first pages (every tab, with and without filters); with
// the default 30 % searches, 40 % deep and 30 % first pages.
func (l *queueLoad) page(ctx context.Context) {
	r := rand.IntN(100)
	if r < l.searchShare {
		l.search()
		return
	}
	switch r = (r - l.searchShare) * 7 / max(1, 100-l.searchShare); {
	case r < 4:
		s := l.streams[int(l.next.Add(1))%len(l.streams)]
		if !s.mu.TryLock() { // that stream's previous page is still on its way: take a first page instead
			l.first()
			return
		}
		s.mu.Unlock()
		l.step(s, true)
	default:
		l.first()
	}
}

func (l *queueLoad) first() {
	q := url.Values{"queue": {cases.Queues[rand.IntN(len(cases.Queues))]}}
	kind := "first"
	if rand.IntN(2) == 0 {
		kind = "filter"
		if rand.IntN(3) > 0 {
			q.Set("risk", cases.RiskLevels[rand.IntN(3)])
		}
		if rand.IntN(2) == 0 || q.Get("risk") == "" {
			q.Set("provider", cases.Providers[rand.IntN(3)])
		}
	}
	t0 := time.Now()
	rid, status, _, err := l.get("/queues?" + q.Encode())
	l.record(kind, rid, time.Since(t0), err == nil && status == 200)
}

// search sends a search: a reference, an external id or a piece of one (rare); a full or
// partial name (hundreds to thousands of cases); a surname or a bare word (very many);
// on any tab, sometimes with a filter.
func (l *queueLoad) search() {
	var term, kind string
	switch r := rand.IntN(10); {
	case r < 4:
		term, kind = l.fx.rareTerms[rand.IntN(len(l.fx.rareTerms))], "search-rare"
	case r < 7 && len(l.fx.medTerms) > 0:
		term, kind = l.fx.medTerms[rand.IntN(len(l.fx.medTerms))], "search-name"
	default:
		term, kind = l.fx.bigTerms[rand.IntN(len(l.fx.bigTerms))], "search-common"
	}
	q := url.Values{"queue": {cases.Queues[rand.IntN(len(cases.Queues))]}, "q": {term}}
	if rand.IntN(3) == 0 {
		q.Set("risk", cases.RiskLevels[rand.IntN(3)])
	}
	t0 := time.Now()
	rid, status, _, err := l.get("/queues?" + q.Encode())
	l.record(kind, rid, time.Since(t0), err == nil && status == 200)
}

func (l *queueLoad) casePage(ctx context.Context) {
	t0 := time.Now()
	rid, status, _, err := l.get("/cases/" + l.fx.caseIDs[rand.IntN(len(l.fx.caseIDs))])
	l.record("case", rid, time.Since(t0), err == nil && status == 200)
}

// paced calls fn rate times a second (open loop: the schedule does not wait for answers)
// on inflight senders; a call that finds no sender free is counted as late and skipped.
// The senders run at niceness clientNice (lowprio): the load generator shares this
// machine's cores with the server it measures, where real clients (browsers, providers)
// would be on other machines; lowered, it takes the cores the server leaves.
func (l *queueLoad) paced(ctx context.Context, rate, inflight int, fn func(context.Context)) {
	tickets := make(chan struct{})
	var wg sync.WaitGroup
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lowprio.Lower(l.clientNice)
			for range tickets {
				fn(ctx)
			}
		}()
	}
	defer func() {
		close(tickets)
		wg.Wait()
	}()
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case tickets <- struct{}{}:
		default:
			l.record("late", "", 0, false)
		}
	}
}

// deliveryCount tallies the deliveries the senders got an answer for.
type deliveryCount struct{ acked, failed atomic.Int64 }

func (d *deliveryCount) send(ctx context.Context, g *loadGen) {
	_, status, err := g.send(context.WithoutCancel(ctx))
	if err == nil && status/100 == 2 {
		d.acked.Add(1)
	} else {
		d.failed.Add(1)
	}
}

// waitSearchIndex waits (up to five minutes) for the server at base to have built its
// queue index, which at start reads every case (about 20 s at a million) on a core the
// measurements would otherwise share, and says how long it took.
func waitSearchIndex(m *Main, label, base string) {
	t0 := time.Now()
	for metricSum(base+"/metrics", "kycdesk_search_index_ready", "") < 1 && time.Since(t0) < 5*time.Minute {
		time.Sleep(200 * time.Millisecond)
	}
	m.printf("%s: search index ready after %.1fs (%.0f cases)\n", label, time.Since(t0).Seconds(),
		metricSum(base+"/metrics", "kycdesk_search_index_cases", ""))
}

// workerBacklog reads the inbox depth from /metrics (-1 when it cannot).
func workerBacklog(url string) float64 { return metricSum(url, "kycdesk_inbox_depth", "") }

// metricSum adds up the samples of /metrics whose line starts with name and holds label
// (-1 when /metrics does not answer).
func metricSum(url, name, label string) float64 {
	status, body, err := fasthttp.GetTimeout(nil, url, 5*time.Second)
	if err != nil || status != fasthttp.StatusOK {
		return -1
	}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	total := 0.0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name) && strings.Contains(line, label) {
			if i := strings.LastIndexByte(line, ' '); i > 0 {
				v, _ := strconv.ParseFloat(line[i+1:], 64)
				total += v
			}
		}
	}
	return total
}

// poolWaits is how often requests had waited for a read connection of kycdesk.db, and for
// how long in all, so far.
type poolWaits struct{ n, seconds float64 }

func readPoolWaits(url string) poolWaits {
	return poolWaits{metricSum(url, "go_sql_wait_count_total", `db_name="read"`),
		metricSum(url, "go_sql_wait_duration_seconds_total", `db_name="read"`)}
}

// report prints the measured run's figures by kind of request, and the warm-up's on a line.
func (l *queueLoad) report(m *Main, elapsed time.Duration, acked, failed int64, backlog float64, cpu time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	type series struct {
		server, client []float64
		errors         int
	}
	by := map[string]*series{}
	get := func(k string) *series {
		if by[k] == nil {
			by[k] = &series{}
		}
		return by[k]
	}
	late := 0
	for _, s := range l.samples {
		if s.kind == "late" {
			if !s.warmup {
				late++
			}
			continue
		}
		groups := []string{s.kind, "all pages"}
		switch {
		case s.warmup && s.kind == "case":
			continue
		case s.warmup:
			groups = []string{"warm-up"}
		case s.kind == "case":
			groups = groups[:1]
		}
		for _, g := range groups {
			sr := get(g)
			if !s.ok {
				sr.errors++
				continue
			}
			sr.client = append(sr.client, float64(s.client.Microseconds())/1000)
			if v, ok := l.log.get(s.rid); ok {
				sr.server = append(sr.server, v)
			}
		}
	}
	pct := func(v []float64, p float64) float64 {
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		i := int(float64(len(v))*p/100+0.999999) - 1
		return v[min(max(i, 0), len(v)-1)]
	}
	m.printf("%-14s %7s %6s %6s | %-25s | %-25s\n", "", "count", "/s", "errors", "server p50 / p95 / p99 ms", "client p50 / p95 / p99 ms")
	for _, k := range []string{"all pages", "first", "filter", "deep", "search-rare", "search-name", "search-common", "case"} {
		s := by[k]
		if s == nil {
			continue
		}
		n := len(s.client) + s.errors
		m.printf("%-14s %7d %6.0f %6d | %7.2f %7.2f %7.2f   | %7.2f %7.2f %7.2f\n", k, n, float64(n)/elapsed.Seconds(), s.errors,
			pct(s.server, 50), pct(s.server, 95), pct(s.server, 99), pct(s.client, 50), pct(s.client, 95), pct(s.client, 99))
	}
	if l.warmup > 0 {
		w := get("warm-up")
		m.printf("warm-up (not above): %d pages, %d errors, server p50 / p95 / p99 %.2f / %.2f / %.2f ms\n",
			len(w.client)+w.errors, w.errors, pct(w.server, 50), pct(w.server, 95), pct(w.server, 99))
	}
	m.printf("deliveries: %.0f/s acknowledged (%d), %d failed; inbox backlog at the end %.0f; requests skipped for want of a free slot: %d\n",
		float64(acked)/elapsed.Seconds(), acked, failed, backlog, late)
	m.printf("CPU (client and server in this process): %.2f cores busy over %s\n", cpu.Seconds()/elapsed.Seconds(), elapsed.Round(time.Millisecond))
}
