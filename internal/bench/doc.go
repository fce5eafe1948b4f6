// Package bench is the scenario runner behind `importer bench`: it sets up
// the WeCom emulator on loopback HTTP and a journal (embedded file or a
// private PostgreSQL it starts itself), generates feeds of a given size,
// runs the importer for real — runner.Run in-process where only time and
// calls matter, the built importer binary where a process is needed (peak
// RSS, kill -9) — and collects one results table.
//
// Every scenario checks what must hold whatever the machine (no row lost,
// no effect twice, write calls equal to the changed records) and reports
// it in the table's check column; time is measured and printed, never
// checked, so a slow or busy machine never fails a run.
package bench
