package wecomsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
)

// SnapUser is every stored field of a member, with wire-style JSON names.
type SnapUser struct {
	UserID    string `json:"userid"`
	Name      string `json:"name"`
	Alias     string `json:"alias"`
	Mobile    string `json:"mobile"`
	Email     string `json:"email"`
	Position  string `json:"position"`
	Gender    string `json:"gender"`
	Telephone string `json:"telephone"`
	Address   string `json:"address"`
	// BizMail and ExternalPosition are stored only as set: the emulator
	// has no enterprise mail to generate a default address from.
	BizMail          string   `json:"biz_mail,omitempty"`
	ExternalPosition string   `json:"external_position,omitempty"`
	Department       []int    `json:"department"`
	Order            []uint32 `json:"order"`
	IsLeaderInDept   []int    `json:"is_leader_in_dept"`
	DirectLeader     []string `json:"direct_leader"`
	MainDepartment   int      `json:"main_department"`
	Enable           int      `json:"enable"`
	Status           int      `json:"status"`
	// Avatar is the URL user/get shows, resolved from avatar_mediaid when
	// it was set: the media id itself expires after three days.
	Avatar          string           `json:"avatar,omitempty"`
	ExtAttr         []ExtAttr        `json:"extattr,omitempty"`
	ExternalProfile *ExternalProfile `json:"external_profile,omitempty"`
	// Invited records to_invite on create (default true): WeCom would have
	// sent the member an invitation. user/get does not show it.
	Invited bool `json:"invited,omitempty"`
}

// SnapDept is every stored field of a department.
type SnapDept struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	NameEn   string `json:"name_en"`
	ParentID int    `json:"parentid"`
	Order    uint32 `json:"order"`
}

// Snapshot is a deep copy of the directory: users sorted by userid,
// departments and tags by id.
type Snapshot struct {
	Users       []SnapUser `json:"users"`
	Departments []SnapDept `json:"departments"`
	Tags        []SnapTag  `json:"tags"`
}

// Snapshot copies the directory so tests can inspect it without racing
// the server. Batch jobs are first brought up to the clock's time, so the
// copy shows what they have applied by now.
func (s *Server) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceJobs(s.opts.Now())
	return s.snapshotLocked()
}

func (s *Server) snapshotLocked() Snapshot {
	snap := Snapshot{Users: []SnapUser{}, Departments: []SnapDept{}, Tags: s.snapTags()}
	for _, u := range s.users {
		snap.Users = append(snap.Users, copySnapUser(u.SnapUser))
	}
	for _, d := range s.depts {
		snap.Departments = append(snap.Departments, d.SnapDept)
	}
	sort.Slice(snap.Users, func(i, j int) bool { return snap.Users[i].UserID < snap.Users[j].UserID })
	sort.Slice(snap.Departments, func(i, j int) bool { return snap.Departments[i].ID < snap.Departments[j].ID })
	return snap
}

func copySnapUser(u SnapUser) SnapUser {
	u.Department = append([]int{}, u.Department...)
	u.Order = append([]uint32{}, u.Order...)
	u.IsLeaderInDept = append([]int{}, u.IsLeaderInDept...)
	u.DirectLeader = append([]string{}, u.DirectLeader...)
	u.ExtAttr = cloneAttrs(u.ExtAttr)
	u.ExternalProfile = cloneProfile(u.ExternalProfile)
	return u
}

// serveState answers GET /sim/state with the snapshot. It needs no token:
// it is the emulator's own inspection hook, not part of the WeCom API.
func (s *Server) serveState(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body := marshalNoEscape(s.Snapshot())
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(body)
}

// stateFile is the on-disk form; it adds what a snapshot leaves out but a
// restart must keep (creation order, activation, id counters).
type stateFile struct {
	Version     int        `json:"version"`
	Users       []fileUser `json:"users"`
	Departments []SnapDept `json:"departments"`
	NextDeptID  int        `json:"next_dept_id"`
	NextSeq     int64      `json:"next_seq"`
	PendingID   int        `json:"pending_dept_id,omitempty"`
	// Tags came after version 1 was fixed; a file without them has none.
	Tags []SnapTag `json:"tags,omitempty"`
}

type fileUser struct {
	SnapUser
	Seq       int64 `json:"seq"`
	Activated bool  `json:"activated"`
}

const stateVersion = 1

// SaveFile writes users, departments, tags and id counters as JSON. The write
// goes through a temporary file and a rename so a crash never leaves a
// half-written state behind.
func (s *Server) SaveFile(path string) error {
	s.mu.Lock()
	s.advanceJobs(s.opts.Now())
	st := stateFile{Version: stateVersion, NextDeptID: s.nextDeptID, NextSeq: s.nextSeq, PendingID: s.pendingID}
	snap := s.snapshotLocked()
	st.Departments = snap.Departments
	st.Tags = snap.Tags
	for _, su := range snap.Users {
		u := s.users[userKey(su.UserID)]
		st.Users = append(st.Users, fileUser{SnapUser: su, Seq: u.seq, Activated: u.activated})
	}
	s.mu.Unlock()

	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("wecomsim: encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".wecomsim-*.json")
	if err != nil {
		return fmt.Errorf("wecomsim: save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("wecomsim: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("wecomsim: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("wecomsim: save state: %w", err)
	}
	return nil
}

// LoadFile replaces the directory with the one saved at path. Tokens,
// counters, bans and logs are left alone. A file that breaks the
// directory's invariants is refused and the current state kept.
func (s *Server) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("wecomsim: load state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("wecomsim: load state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("wecomsim: load state %s: unsupported version %d", path, st.Version)
	}
	depts := map[int]*dept{}
	for _, d := range st.Departments {
		if d.ID < 1 || depts[d.ID] != nil {
			return fmt.Errorf("wecomsim: load state %s: bad or duplicate department id %d", path, d.ID)
		}
		depts[d.ID] = &dept{d}
	}
	if depts[1] == nil {
		return fmt.Errorf("wecomsim: load state %s: root department 1 missing", path)
	}
	depts[1].ParentID = 0
	for _, d := range depts {
		if d.ID != 1 && depts[d.ParentID] == nil {
			return fmt.Errorf("wecomsim: load state %s: department %d has unknown parent %d", path, d.ID, d.ParentID)
		}
	}
	if err := checkAcyclic(depts); err != nil {
		return fmt.Errorf("wecomsim: load state %s: %w", path, err)
	}
	users := map[string]*user{}
	var maxSeq int64
	for _, fu := range st.Users {
		if checkUserID(fu.UserID) != 0 {
			return fmt.Errorf("wecomsim: load state %s: bad userid %q", path, fu.UserID)
		}
		k := userKey(fu.UserID)
		if users[k] != nil {
			return fmt.Errorf("wecomsim: load state %s: duplicate userid %q", path, fu.UserID)
		}
		for _, d := range fu.Department {
			if depts[d] == nil {
				return fmt.Errorf("wecomsim: load state %s: user %q in unknown department %d", path, fu.UserID, d)
			}
		}
		u := &user{SnapUser: copySnapUser(fu.SnapUser), seq: fu.Seq, activated: fu.Activated}
		// Pad the per-department arrays so later code can index them.
		for len(u.Order) < len(u.Department) {
			u.Order = append(u.Order, 0)
		}
		for len(u.IsLeaderInDept) < len(u.Department) {
			u.IsLeaderInDept = append(u.IsLeaderInDept, 0)
		}
		users[k] = u
		if u.seq > maxSeq {
			maxSeq = u.seq
		}
	}

	tags, err := loadTags(st.Tags, users, depts)
	if err != nil {
		return fmt.Errorf("wecomsim: load state %s: %w", path, err)
	}

	// Indexing is O(directory) and needs no lock: nothing else sees
	// users and depts yet.
	idx := buildIndex(users, depts)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.users, s.depts, s.idx, s.tags = users, depts, idx, tags
	s.nextDeptID = max(st.NextDeptID, 2)
	s.nextSeq = max(st.NextSeq, maxSeq+1)
	s.pendingID = 0
	if st.PendingID != 0 && depts[st.PendingID] != nil {
		s.pendingID = st.PendingID
	}
	return nil
}

func checkAcyclic(depts map[int]*dept) error {
	for _, d := range depts {
		id, steps := d.ID, 0
		for id != 1 {
			id = depts[id].ParentID
			if steps++; steps > len(depts) {
				return fmt.Errorf("department %d is in a cycle", d.ID)
			}
		}
	}
	return nil
}

// Paths names every department but the root by its path below the root,
// "总部/研发中心/后端组", the way HR feeds name departments, so tests can
// compare a directory with a feed.
func (s Snapshot) Paths() map[int]string {
	byID := make(map[int]SnapDept, len(s.Departments))
	for _, d := range s.Departments {
		byID[d.ID] = d
	}
	paths := make(map[int]string, len(s.Departments))
	var path func(id, depth int) string
	path = func(id, depth int) string {
		if p, ok := paths[id]; ok {
			return p
		}
		d, ok := byID[id]
		if !ok || id == 1 || depth > len(byID) {
			return "" // the root, or a corrupt chain: never loop
		}
		p := d.Name
		if parent := path(d.ParentID, depth+1); parent != "" {
			p = parent + "/" + d.Name
		}
		paths[id] = p
		return p
	}
	for _, d := range s.Departments {
		if d.ID != 1 {
			path(d.ID, 0)
		}
	}
	return paths
}
