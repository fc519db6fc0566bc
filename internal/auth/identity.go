package auth

// Role is what a user may do; each user has exactly one.
type Role string

// The four roles of DESIGN.md.
const (
	Analyst Role = "analyst"
	Lead    Role = "lead"
	Admin   Role = "admin"
	Auditor Role = "auditor"
)

// Roles lists every role, in the order forms show them.
var Roles = []Role{Analyst, Lead, Admin, Auditor}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Identity is who is making a request, as the session says.
type Identity struct {
	UserID    int64
	Email     string
	Name      string
	Role      Role
	MFAPassed bool // false: the password was right, the second factor is still due
	HasMFA    bool // the user has enrolled TOTP
}

// SignedIn reports whether both factors were verified.
func (i *Identity) SignedIn() bool { return i != nil && i.MFAPassed }
