#!/bin/sh
# Regenerates the LibreOffice-written workbooks: every <scenario>/source.fods
# (flat OpenDocument, the readable source of the fixture) or source.xlsx is
# opened and saved by LibreOffice as <scenario>/input.xlsx. source.xlsx is
# for what LibreOffice does not take from a flat ODS file when converting
# headless (a hidden first sheet: hidden_sheet/source.xlsx is written by
# excelize with the second sheet active). The tests read only the committed
# input files, so LibreOffice is needed only to change a fixture.
set -eu
cd "$(dirname "$0")"
for src in */source.fods */source.xlsx; do
	dir=$(dirname "$src")
	out=$(mktemp -d)
	soffice --headless --convert-to xlsx --outdir "$out" "$src" >/dev/null
	mv "$out"/*.xlsx "$dir/input.xlsx"
	rmdir "$out"
done
