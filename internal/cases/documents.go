package cases

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"

	"github.com/kycdesk/kycdesk/internal/crypto"
)

// MaxDocumentBytes is the largest document image kept with a case.
const MaxDocumentBytes = 15 << 20

// allowedTypes are the content types a reviewer's browser is given: images and PDF only,
// so a provider (or a proxy) cannot plant HTML or script behind a document link.
var allowedTypes = map[string]bool{
	"image/jpeg":      true,
	"image/png":       true,
	"image/webp":      true,
	"application/pdf": true,
}

// SniffContentType returns the media type of b judged from its bytes, never from what the
// sender declared. WebP is checked first because its RIFF container is easy to tell apart.
func SniffContentType(b []byte) string {
	if len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")) {
		return "image/webp"
	}
	ct := http.DetectContentType(b)
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return ct
}

// AllowedContentType reports whether a sniffed type may be stored and served.
func AllowedContentType(ct string) bool { return allowedTypes[ct] }

// preparedDocument is a document ready to insert: checked, hashed and sealed, all of which
// happens before the write transaction so the single writer connection is held only for SQL.
type preparedDocument struct {
	ref         DocumentRef
	contentType string
	size        int64
	sha256      string
	wrappedKey  []byte
	ciphertext  []byte
}

// prepareDocuments checks, hashes and seals the documents that carry bytes. A document that
// is refused (type, size) or was never fetched becomes a flag on the case, never an error:
// one bad image must not lose the rest of the result.
func prepareDocuments(sealer *crypto.Sealer, refs []DocumentRef) (docs []preparedDocument, flags []string, err error) {
	seen := map[string]bool{}
	for _, ref := range refs {
		name := ref.ProviderID
		if name == "" {
			name = ref.Kind
		}
		switch {
		case seen[ref.ProviderID]:
			flags = append(flags, fmt.Sprintf("document %s: repeated in the result: kept once", name))
			continue
		case ref.Data == nil:
			flags = append(flags, fmt.Sprintf("document %s: not retrieved", name))
			continue
		case len(ref.Data) == 0:
			flags = append(flags, fmt.Sprintf("document %s refused: empty", name))
			continue
		case len(ref.Data) > MaxDocumentBytes:
			flags = append(flags, fmt.Sprintf("document %s refused: larger than %d MiB", name, MaxDocumentBytes>>20))
			continue
		}
		ct := SniffContentType(ref.Data)
		if !AllowedContentType(ct) {
			flags = append(flags, fmt.Sprintf("document %s refused: type %s", name, ct))
			continue
		}
		seen[ref.ProviderID] = true
		sum := sha256.Sum256(ref.Data)
		wrapped, ciphertext, err := sealer.SealDocument(ref.Data)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, preparedDocument{
			ref: ref, contentType: ct, size: int64(len(ref.Data)), sha256: hex.EncodeToString(sum[:]),
			wrappedKey: wrapped, ciphertext: ciphertext,
		})
	}
	return docs, flags, nil
}
