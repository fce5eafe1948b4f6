package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Digest identifies the plan's operations exactly: every op's phase,
// level, kind, target, source row, department and records before and
// after, in order, and whether leavers and cleanup were suspended. Plans
// built from the same feed, state and live directory under the same
// policy have the same digest, so a plan file reviewed yesterday can be
// applied only while it is still what a run would do.
func (p *Plan) Digest() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	// Encoding plain structs of strings, ints and records cannot fail.
	_ = enc.Encode(p.Suspended)
	for i := range p.Ops {
		_ = enc.Encode(&p.Ops[i])
	}
	return hex.EncodeToString(h.Sum(nil))
}
