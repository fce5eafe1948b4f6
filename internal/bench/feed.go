package bench

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// staffFeed describes a generated import feed in the layout of
// samples/staff.csv, so the sample's mapping reads it unchanged.
type staffFeed struct {
	Members     int
	Departments int  // departments in the tree, all under WeCom's root
	Leaders     bool // every member but the first of each group reports to that first member
	// Position is every member's position; a new value gives a resumed
	// or repeated run work to do.
	Position string
	// ChangedEvery, when > 0, gives every ChangedEvery-th member (0, n, 2n,
	// ...) the position Changed instead: the "1% changed" nightly feed.
	ChangedEvery int
	Changed      string
	// Locations, when > 0, adds the column 工作地点 (城市00, 城市01, ...,
	// member i at i mod Locations), which the tags scenario's mapping
	// makes a tag per location; MovedEvery, when > 0, moves every
	// MovedEvery-th member to the next location, and LocationShift every
	// third member that many locations on.
	Locations, MovedEvery, LocationShift int
}

// wantMember is what WeCom must hold for a member once the feed is applied.
type wantMember struct {
	DeptPath string
	Position string
	Leader   string
	// Location is the member's 工作地点, "" when the feed has none; the
	// member's tag, checked by checkTags.
	Location string
}

// Want is what WeCom must hold once a feed is applied, by userid.
type Want map[string]wantMember

var staffHeader = []string{"工号", "姓名", "手机", "邮箱", "部门", "职位", "性别", "状态", "直属上级"}

// groups and tops split Departments into top-level departments (about
// one per 30) and groups beneath them; members sit in the groups.
func (f staffFeed) tops() int   { return max(1, f.Departments/30) }
func (f staffFeed) groups() int { return max(1, f.Departments-f.tops()) }

func (f staffFeed) groupPath(g int) string {
	return fmt.Sprintf("事业部%02d/组%03d", g%f.tops(), g)
}

func userID(i int) string { return fmt.Sprintf("U%06d", i) }

// row is member i as the feed writes it.
func (f staffFeed) row(i int) []string {
	groups := f.groups()
	leader := ""
	if f.Leaders && i >= groups {
		leader = userID(i % groups)
	}
	pos := f.Position
	if f.ChangedEvery > 0 && i%f.ChangedEvery == 0 {
		pos = f.Changed
	}
	r := []string{userID(i), fmt.Sprintf("员工%d", i), fmt.Sprintf("139%08d", i), fmt.Sprintf("u%d@example.com", i),
		f.groupPath(i % groups), pos, []string{"男", "女"}[i%2], "在职", leader}
	if f.Locations > 0 {
		r = append(r, f.location(i))
	}
	return r
}

// location is where member i works.
func (f staffFeed) location(i int) string {
	l := i % f.Locations
	if f.MovedEvery > 0 && i%f.MovedEvery == 0 {
		l++
	}
	if i%3 == 0 {
		l += f.LocationShift
	}
	return fmt.Sprintf("城市%02d", l%f.Locations)
}

func (f staffFeed) header() []string {
	if f.Locations > 0 {
		return append(slices.Clone(staffHeader), "工作地点")
	}
	return staffHeader
}

// changedMembers is how many members the nightly feed changes.
func (f staffFeed) changedMembers() int {
	if f.ChangedEvery <= 0 {
		return 0
	}
	return (f.Members + f.ChangedEvery - 1) / f.ChangedEvery
}

// write writes the feed as UTF-8 CSV and returns what WeCom must hold.
func (f staffFeed) write(path string) (Want, error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	bw := bufio.NewWriterSize(out, 1<<16)
	w := csv.NewWriter(bw)
	if err := w.Write(f.header()); err != nil {
		return nil, err
	}
	want := make(Want, f.Members)
	for i := range f.Members {
		r := f.row(i)
		if err := w.Write(r); err != nil {
			return nil, err
		}
		want[r[0]] = wantMember{DeptPath: r[4], Position: r[5], Leader: r[8]}
		if f.Locations > 0 {
			want[r[0]] = wantMember{DeptPath: r[4], Position: r[5], Leader: r[8], Location: r[9]}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return want, out.Close()
}

// faultFeed is the fault campaign's feed: 40 departments, leaders, and a
// position that changes with version, so a run after a finished one has
// work to do; and the sample feed's 工作地点 column, which the sample
// config and the kill campaign make tags of, a third of the members
// moving with each version.
func faultFeed(members, version int) staffFeed {
	return staffFeed{Members: members, Departments: 40, Leaders: true, Position: fmt.Sprintf("岗位v%d", version),
		Locations: 7, LocationShift: version}
}

// writeFaultConfig is writeJobConfig for the fault campaign's feed, with
// no per-API limits and a tag per location.
func writeFaultConfig(dir, url, leavers string) (string, error) {
	path, err := writeJobConfig(dir, url, -1, -1, leavers)
	if err != nil {
		return path, err
	}
	return path, addToMapping(path, tagMapping)
}

// WriteFeed writes the fault campaign's first feed of members members to
// path and returns what WeCom must hold after it: for crash tests outside
// the bench, which check what they recovered with CheckRecovered.
func WriteFeed(path string, members int) (Want, error) {
	return faultFeed(members, 1).write(path)
}

// benchConcurrency is every scenario's cap on calls in flight: the sample
// config's, within which the executor sizes its pool to the rate limit and
// the measured latency.
const benchConcurrency = executor.DefaultConcurrency

// setRetryFor sets journal.retry_for in the config at path.
func setRetryFor(path, d string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, bytes.Replace(b, []byte("journal:\n"), []byte("journal:\n  retry_for: "+d+"\n"), 1), 0o644)
}

// writeJobConfig writes dir/importer.yaml and returns its path.
// emulatorJob is a scenario's work directory, an emulator started with
// sim, and the job config there pointing at it with the client's per-API
// limits (as writeJobConfig), leavers disabled. The caller closes em.
func (b *bench) emulatorJob(work string, sim wecomsim.Options, perMinute, perHour int) (dir string, em *emulator, cfgPath string, err error) {
	if dir, err = b.workDir(work); err != nil {
		return "", nil, "", err
	}
	if em, err = startEmulator(sim); err != nil {
		return "", nil, "", err
	}
	if cfgPath, err = writeJobConfig(dir, em.url, perMinute, perHour, "disable"); err != nil {
		em.close()
		return "", nil, "", err
	}
	return dir, em, cfgPath, nil
}

func writeJobConfig(dir, url string, perMinute, perHour int, leavers string) (string, error) {
	path := filepath.Join(dir, "importer.yaml")
	return path, os.WriteFile(path, []byte(jobConfig(url, perMinute, perHour, leavers)), 0o644)
}

// jobConfig is samples/importer.yaml with the emulator's address, the
// bench corp, the given per-API limits (0 = WeCom's documented default,
// -1 = off), the leavers policy (disable, or delete where the kill
// campaign must see deletes) and the embedded journal file journal.db next
// to it. The mass-change guard is relaxed because the fault campaign
// rewrites every member between kills.
func jobConfig(url string, perMinute, perHour int, leavers string) string {
	return fmt.Sprintf(`wecom:
  base_url: %s
  corp_id: %s
  secret_env: WECOM_SECRET
  concurrency: %d
  per_minute: %d
  per_hour: %d
journal:
  dsn_env: DATABASE_URL
  path: journal.db
jobs:
  - name: staff
    source: {type: csv, path: staff.csv}
    mapping:
      fields:
        userid: 工号
        name: {column: 姓名, transform: [trim]}
        mobile: {column: 手机, transform: [mobile]}
        email: {column: 邮箱, transform: [trim, lower]}
        position: 职位
        gender: {column: 性别, map: {男: "1", 女: "2"}}
        direct_leader: 直属上级
      status: {column: 状态, map: {在职: active, 离职: leaver}}
      departments: {path_column: 部门, separator: /}
    policy:
      leavers: %s
      scope: managed
      max_delete_ratio: 0.5
`, url, corpID, benchConcurrency, perMinute, perHour, leavers)
}

// workDir makes a scenario's directory under the bench's temporary root.
func (b *bench) workDir(name string) (string, error) {
	dir := filepath.Join(b.tmp, strings.NewReplacer(" ", "-", "/", "-").Replace(name))
	return dir, os.MkdirAll(dir, 0o755)
}
