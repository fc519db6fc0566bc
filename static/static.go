// Package static holds the CSS, small scripts and icons, embedded into the binary so it
// runs from any directory.
package static

import "embed"

// FS is the static tree, served under /static/.
//
//go:embed *.css *.ico *.js vendor fonts
var FS embed.FS
