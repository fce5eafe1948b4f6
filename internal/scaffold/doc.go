// Package scaffold writes a starting config from a staff file's header and
// a sample of its rows: it recognises the column names Chinese and English
// HR exports and WeCom's own admin-console export use (工号, 帐号/账号, 姓名,
// 手机, 部门, Employee ID, …), reads the values to choose the department
// separator, the cell separator for several departments, the corp-name
// prefix of paths and the maps of gender and status, and says what it
// guessed and what it could not place, so `importer init --from FILE` gives
// a first run that needs no YAML written by hand. It does no I/O: the
// command reads the file and writes the result.
package scaffold
