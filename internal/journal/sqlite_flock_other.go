//go:build !unix

package journal

import (
	"sync"
)

// Without flock the embedded journal's job locks keep apart only the runs
// of this process: importer is built for Unix, and this keeps the package
// compiling elsewhere for tools and tests.
var localLocks struct {
	sync.Mutex
	held map[string]bool
}

type localFile struct {
	path string
	once sync.Once
}

func (f *localFile) Close() error {
	f.once.Do(func() {
		localLocks.Lock()
		delete(localLocks.held, f.path)
		localLocks.Unlock()
	})
	return nil
}

func lockFile(path string) (heldFile, error) {
	localLocks.Lock()
	defer localLocks.Unlock()
	if localLocks.held[path] {
		return nil, errFileLocked
	}
	if localLocks.held == nil {
		localLocks.held = map[string]bool{}
	}
	localLocks.held[path] = true
	return &localFile{path: path}, nil
}

func lockFree(path string) (bool, error) {
	localLocks.Lock()
	defer localLocks.Unlock()
	return !localLocks.held[path], nil
}
