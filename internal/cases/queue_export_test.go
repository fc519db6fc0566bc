package cases

// QueueSQL and CountSQL expose the queue queries to the plan test in cases_test.
func (f QueueFilter) QueueSQL(limit int) (string, []any) { return f.queueSQL(limit) }
func (f QueueFilter) CountSQL() (string, []any)          { return f.countSQL() }

// GlobPattern exposes the search pattern builder.
var GlobPattern = globPattern
