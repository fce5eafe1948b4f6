package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine is what a reader needs to compare a table with their own
// figures: the same scenario on another CPU or Go release is another
// result.
type Machine struct {
	CPU    string
	Cores  int
	Memory string // total RAM, "" when unknown
	OS     string // GOOS/GOARCH
	Go     string
	Date   time.Time
}

func (m Machine) String() string {
	s := fmt.Sprintf("%s, %d cores", m.CPU, m.Cores)
	if m.Memory != "" {
		s += ", " + m.Memory + " RAM"
	}
	return s + fmt.Sprintf(", %s, %s, %s", m.OS, m.Go, m.Date.UTC().Format("2006-01-02 15:04 UTC"))
}

// thisMachine reads the CPU model and memory from /proc where there is one;
// elsewhere the architecture stands in for the model.
func thisMachine() Machine {
	m := Machine{CPU: runtime.GOARCH, Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Go: runtime.Version(), Date: time.Now()}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64); err == nil {
			m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	return m
}

// procField returns the value of the first "key : value" line of a /proc
// file, or "".
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
