package cases

// qRefreshAPIParts rebuilds the JSON API's arrays of one case round (case_api_parts) from
// its checks and documents, once, after the round's rows are written: the trigger behind
// case_api_refresh (migration 00012) does it in one pass over the rows, so applying a
// result costs linear time in its checks and documents.
const qRefreshAPIParts = `INSERT INTO case_api_refresh (case_id, round) VALUES (?, ?)`

func init() { hotQueries = append(hotQueries, qRefreshAPIParts) }

// refreshAPIParts rebuilds the API arrays of the round whose rows this result wrote.
func (a *applier) refreshAPIParts(caseID string, round int) error {
	_, err := a.s.exec(a.ctx, a.tx, qRefreshAPIParts, caseID, round)
	return err
}
