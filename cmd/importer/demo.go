package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

func (a *app) demoCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR]",
		Short: "The whole story on embedded defaults: emulator, embedded journal, sample feed; no server or account needed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(cmd.Context(), dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "hrfeed-demo", "where the demo writes its feed, config and journal (recreated each time)")
	return cmd
}

// writeAPIs are the emulator endpoints that change the directory.
var writeAPIs = []string{"user/create", "user/update", "user/delete", "user/batchdelete",
	"department/create", "department/update", "department/delete",
	wecom.APITagCreate, wecom.APITagUpdate, wecom.APITagDelete, wecom.APITagAddUsers, wecom.APITagDelUsers}

func simWrites(sim *wecomsim.Server) int {
	stats := sim.Stats()
	n := 0
	for _, api := range writeAPIs {
		n += stats[api]
	}
	return n
}

func (a *app) demo(ctx context.Context, dir string) error {
	a.story = true
	if err := os.RemoveAll(dir); err != nil {
		return fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fatal(err)
	}
	feed := filepath.Join(dir, "staff.csv")
	if err := os.WriteFile(feed, samples.StaffCSV, 0o644); err != nil {
		return fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "importer.yaml"), samples.ImporterYAML, 0o644); err != nil {
		return fatal(err)
	}
	c, err := config.Load(filepath.Join(dir, "importer.yaml"))
	if err != nil {
		return fatal(err)
	}
	job, err := c.Job("")
	if err != nil {
		return fatal(err)
	}

	// A fresh secret per demo: it exists only inside this process.
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return fatal(err)
	}
	secret := hex.EncodeToString(raw)
	sim := wecomsim.New(wecomsim.Options{CorpID: c.WeCom.CorpID, Secrets: []wecomsim.Secret{{Value: secret, Kind: wecomsim.SyncEdit}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fatal(err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) // returns ErrServerClosed at the Shutdown below
	defer srv.Shutdown(context.WithoutCancel(ctx))
	c.WeCom.BaseURL = "http://" + ln.Addr().String()

	// The demo always uses the embedded journal, whatever DATABASE_URL says.
	journalPath := c.Resolve(c.Journal.Path)
	store, err := journal.Open(ctx, journalPath)
	if err != nil {
		return fatal(err)
	}
	defer store.Close()

	clients := newCorpClients(a.logger(), nil)
	clients.secret = func(config.Corp, *slog.Logger) (string, error) { return secret, nil }

	w := a.stdout
	fmt.Fprintf(w, "hrfeed demo: WeCom emulator on %s (corp %s), embedded journal %s\n\n", c.WeCom.BaseURL, c.WeCom.CorpID, journalPath)

	pass := func(title string) error {
		fmt.Fprintf(w, "== %s\n", title)
		before := simWrites(sim)
		err := a.execute(ctx, c, job, store, clients, runFlags{}, 0)
		fmt.Fprintf(w, "  WeCom write calls received by the emulator: %d\n\n", simWrites(sim)-before)
		return err
	}
	if err := pass("1. first import of " + feed + " into an empty directory"); err != nil {
		return err
	}
	snap := sim.Snapshot()
	fmt.Fprintf(w, "   the emulator now holds %d departments (with the root) and %d members,\n", len(snap.Departments), len(snap.Users))

	fmt.Fprintf(w, "   and %d tags, members in each:", len(snap.Tags))
	for _, t := range snap.Tags {
		fmt.Fprintf(w, " %s %d", t.Name, len(t.Users))
	}
	fmt.Fprint(w, "\n\n")
	if err := pass("2. the same feed again: nothing changed, so nothing is sent"); err != nil {
		return err
	}

	// HR's next export: one promotion, one move to another city, one leaver.
	changed := bytes.Replace(samples.StaffCSV, []byte("E1011,徐强,13800138011,xuqiang@example.com,总部/研发中心/后端组,工程师,男,在职"),
		[]byte("E1011,徐强,13800138011,xuqiang@example.com,总部/研发中心/后端组,高级工程师,男,在职"), 1)
	changed = bytes.Replace(changed, []byte("E1012,孙燕,13800138012,sunyan@example.com,总部/研发中心/后端组,工程师,女,在职,E1009,杭州"),
		[]byte("E1012,孙燕,13800138012,sunyan@example.com,总部/研发中心/后端组,工程师,女,在职,E1009,上海"), 1)
	changed = bytes.Replace(changed, []byte("E1029,彭飞,13800138029,pengfei@example.com,总部/行政部,前台,男,在职"),
		[]byte("E1029,彭飞,13800138029,pengfei@example.com,总部/行政部,前台,男,离职"), 1)
	if err := os.WriteFile(feed, changed, 0o644); err != nil {
		return fatal(err)
	}
	if err := pass("3. HR's next export: E1011 promoted, E1012 moved from Hangzhou to Shanghai, E1029 left — only those are sent (the move: out of one tag, into another)"); err != nil {
		return err
	}

	self := "importer"
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, "go-build") {
		self = "go run ./cmd/importer"
	}
	fmt.Fprintf(w, "Look at the journal:\n  %s journal runs --journal %s\n  %s journal show 1 --journal %s\n",
		self, journalPath, self, journalPath)
	return nil
}
