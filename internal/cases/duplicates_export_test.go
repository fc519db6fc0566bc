package cases

// QDuplicates exposes the duplicates query to the plan test in cases_test.
const QDuplicates = qDuplicates
