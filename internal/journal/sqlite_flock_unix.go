//go:build unix

package journal

import (
	"errors"
	"os"
	"syscall"
)

// lockFile opens path and flocks it exclusively without waiting.
func lockFile(path string) (heldFile, error) {
	for {
		// Private like the journal; the file holds no data, but anyone who
		// can open it could lock every run out.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		if err := flock(f); err != nil {
			_ = f.Close()
			return nil, err
		}
		// A lock on a file someone has since deleted or replaced excludes
		// no one who opens the path now: lock the file that is there.
		held, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		now, err := os.Stat(path)
		if err == nil && os.SameFile(held, now) {
			return f, nil
		}
		_ = f.Close()
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
}

// lockFree reports whether no one holds path's lock, by taking it for a
// moment. A missing file is free: nothing can hold a lock on it.
func lockFree(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	switch err := flock(f); {
	case errors.Is(err, errFileLocked):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

func flock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	for errors.Is(err, syscall.EINTR) {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errFileLocked
	}
	return err
}
