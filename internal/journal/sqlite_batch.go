package journal

import (
	"context"
	"database/sql"
	"fmt"
)

// maxBatch bounds how many writes share one commit, so one slow batch does
// not hold every worker.
const maxBatch = 64

// write is one journal write waiting for the group committer.
type write struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error
}

// groupCommit runs journal writes from concurrent executor workers in
// shared transactions. With synchronous=FULL every commit is an fsync;
// committing each call's row alone caps a run at one fsync per row (about
// 100 calls a second on an ordinary disk), while a batch pays one fsync for
// every write queued behind it and a lone caller waits no longer than
// before. Each write runs under its own savepoint, so one failing write
// does not undo its neighbours, and none returns before its batch is
// durable — the write-ahead contract is unchanged.
func (s *SQLite) groupCommit() {
	defer close(s.stopped)
	for first := range s.writes {
		batch := []write{first}
	collect:
		for len(batch) < maxBatch {
			select {
			case w, ok := <-s.writes:
				if !ok {
					break collect
				}
				batch = append(batch, w)
			default:
				break collect
			}
		}
		s.commitBatch(batch)
	}
}

func (s *SQLite) commitBatch(batch []write) {
	results := make([]error, len(batch))
	err := s.inTx(context.Background(), func(tx *sql.Tx) error {
		for i, w := range batch {
			if err := w.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if _, err := tx.Exec("SAVEPOINT journal_write"); err != nil {
				return err
			}
			if err := w.fn(tx); err != nil {
				results[i] = err
				if _, rbErr := tx.Exec("ROLLBACK TO journal_write"); rbErr != nil {
					return rbErr
				}
			}
			if _, err := tx.Exec("RELEASE journal_write"); err != nil {
				return err
			}
		}
		return nil
	})
	for i, w := range batch {
		switch {
		case err != nil:
			w.done <- fmt.Errorf("commit: %w", err)
		default:
			w.done <- results[i]
		}
	}
}

// batched queues fn for the group committer and waits until its batch is
// committed (or failed).
func (s *SQLite) batched(ctx context.Context, fn func(*sql.Tx) error) error {
	w := write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return errClosed
	}
	s.writes <- w
	s.closeMu.RUnlock()
	return <-w.done
}
