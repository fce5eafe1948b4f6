//go:build !linux

package bench

// Peak RSS is read from /proc, which only Linux has; elsewhere the table
// says "n/a".
func watchRSS(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		<-stop
		out <- 0
	}()
	return out
}

func selfPeakRSS() int64 { return 0 }
