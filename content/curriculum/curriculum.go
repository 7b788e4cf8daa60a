// Package curriculum is the built-in POD curriculum: the pages that trainees on the
// Foundation Diploma in Peer-supported Open Dialogue read before, during and between the
// four residential modules.
//
// Each page is a Markdown file with a YAML front matter block giving its title, slug,
// module (0 for programme-wide pages, 1 to 4 for a residential module), order within the
// module, release ("immediately", a date YYYY-MM-DD, or "after module N") and an estimate
// of reading time in minutes. Links between pages are relative links to other files of
// the folder.
package curriculum

import "embed"

// FS holds the curriculum pages, one Markdown file per page, named by slug.
//
//go:embed *.md
var FS embed.FS
