package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestConnectionLost(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up", fmt.Errorf("connect: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"socket gone", &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)}, true},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"eof", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"closed conn", pgconn.ErrConnClosed, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"foreign key", &pgconn.PgError{Code: "23503"}, false},
		{"append-only trigger", &pgconn.PgError{Code: "23001"}, false},
		{"bad password", fmt.Errorf("connect: %w", &pgconn.PgError{Code: "28P01"}), false},
		{"canceled", context.Canceled, false},
		{"deadline", fmt.Errorf("timeout: %w", context.DeadlineExceeded), false},
		{"not found", ErrNotFound, false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := connectionLost(tt.err); got != tt.want {
			t.Errorf("%s: connectionLost(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
