//go:build unix

package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cluster is a PostgreSQL server in a temporary directory, started from the
// machine's own initdb and pg_ctl and reachable only through a Unix socket
// there.
type Cluster struct {
	bin   string // directory holding initdb and pg_ctl
	base  string // temporary directory: data/, sock/, logs
	owner *syscall.Credential
	// durable keeps PostgreSQL's default flushing (see serve).
	durable bool
}

func (c *Cluster) data() string { return filepath.Join(c.base, "data") }
func (c *Cluster) sock() string { return filepath.Join(c.base, "sock") }

// Start initialises and starts a cluster in a new directory under /tmp
// named prefix*. durable keeps PostgreSQL's default flushing; without it
// fsync and synchronous commit are off, for tests that never crash the
// server. ErrUnavailable says the machine cannot run PostgreSQL at all.
func Start(prefix string, durable bool) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	owner, err := clusterOwner()
	if err != nil {
		return nil, err
	}
	reapStale(bin, owner, prefix)

	// Under /tmp rather than TMPDIR when possible: the socket path must fit
	// in the ~100 bytes a Unix socket address allows.
	base, err := os.MkdirTemp(shortTempDir(), prefix)
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, base: base, owner: owner, durable: durable}
	if err := c.start(); err != nil {
		_ = os.RemoveAll(base)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	if err := os.Mkdir(c.sock(), 0o700); err != nil {
		return err
	}
	// Recorded so a later test binary can recognize and stop this cluster
	// if this process dies without reaching Main's cleanup.
	if err := os.WriteFile(filepath.Join(c.base, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return err
	}
	if c.owner != nil {
		// PostgreSQL refuses to run as root, so the postgres OS user runs it
		// and needs to own the directories it writes.
		for _, dir := range []string{c.base, c.sock()} {
			if err := os.Chown(dir, int(c.owner.Uid), int(c.owner.Gid)); err != nil {
				return err
			}
		}
	}
	if err := c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres",
		"--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		return err
	}
	return c.Serve()
}

// Serve starts the server on the initialised data directory.
func (c *Cluster) Serve() error {
	opts := fmt.Sprintf("-k '%s' -c listen_addresses='' -c max_connections=200", c.sock())
	if !c.durable {
		// Shared test clusters are never crashed on purpose, so skip the
		// flushes; a private cluster keeps them because its tests crash it
		// and rely on committed rows surviving, as in production.
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.base, "postgres.log"),
		"-w", "-t", "60", "-o", opts, "start"); err != nil {
		return fmt.Errorf("%w\n%s", err, tail(filepath.Join(c.base, "postgres.log"), 2000))
	}
	return nil
}

// Halt stops the server the way a crash or an operator would, keeping the
// data directory so Serve can start it again.
func (c *Cluster) Halt() error {
	return c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
}

func (c *Cluster) Remove() error {
	err := c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	if rmErr := os.RemoveAll(c.base); err == nil {
		err = rmErr
	}
	return err
}

func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/" + db,
		RawQuery: url.Values{"host": {c.sock()}, "sslmode": {"disable"}}.Encode(),
	}
	return u.String()
}

// run runs a PostgreSQL tool as the cluster owner. Output goes to a file,
// not a pipe: pg_ctl leaves a postmaster behind, and a child holding the
// write end of a pipe would keep Wait from returning.
func (c *Cluster) run(tool string, args ...string) error {
	out, err := os.CreateTemp(c.base, tool+"-*.out")
	if err != nil {
		return err
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.base // the tools chdir-check their cwd; the test's may be unreadable to postgres
	cmd.Stdout, cmd.Stderr = out, out
	if c.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", tool, err, tail(out.Name(), 2000))
	}
	return nil
}

// clusterOwner returns the credential to run PostgreSQL with, or nil to run
// it as the current user.
func clusterOwner() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("%w: running as root and there is no postgres OS user to run the server as: %v", ErrUnavailable, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("postgres OS user has non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// findBin returns the directory holding initdb and pg_ctl: PATH first, then
// the newest /usr/lib/postgresql/<version>/bin (Debian and Ubuntu keep the
// tools there, off PATH).
func findBin() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	type candidate struct {
		dir     string
		version []int
	}
	var cands []candidate
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			continue
		}
		var v []int
		for _, part := range strings.Split(filepath.Base(filepath.Dir(dir)), ".") {
			n, err := strconv.Atoi(part)
			if err != nil {
				v = nil
				break
			}
			v = append(v, n)
		}
		if v != nil {
			cands = append(cands, candidate{dir, v})
		}
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("%w: no initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin", ErrUnavailable)
	}
	sort.Slice(cands, func(i, j int) bool { return versionLess(cands[j].version, cands[i].version) })
	return cands[0].dir, nil
}

func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func shortTempDir() string {
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}

// reapStale stops and removes clusters left by test binaries that died
// before Main could stop them (a panic, a timeout, kill -9). It is best
// effort: anything it cannot recognize it leaves alone.
func reapStale(bin string, owner *syscall.Credential, prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(shortTempDir(), prefix+"*"))
	for _, base := range dirs {
		raw, err := os.ReadFile(filepath.Join(base, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		c := &Cluster{bin: bin, base: base, owner: owner}
		if _, err := os.Stat(filepath.Join(c.data(), "postmaster.pid")); err == nil {
			_ = c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
		}
		_ = os.RemoveAll(base)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
