package config

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// presets are mappings for WeCom's own file formats, written as a user
// would write them, so README can show them as they are. Every column a
// format may leave out is optional: a file without 别名 leaves aliases as
// WeCom holds them rather than clearing them.
//
// The corp's name, which the console writes as the first segment of a
// department path, is not stripped by a preset: the importer cannot learn
// it (department/get answers 48009 to a sync secret from a new IP), and
// guessing it from the feed could change between nights and re-key every
// department. `importer init` sees it in the values and writes
// departments.strip_prefix.
var presets = map[string]string{
	// The admin console's member export (通讯录 → 导出成员) and its import
	// template (批量导入 → 文件导入): 部门 is a path, several separated by ";".
	"wecom-console": `
fields:
  userid: [帐号, 账号]
  name: {column: 姓名, transform: [trim]}
  alias: {column: 别名, optional: true}
  position: {column: 职务, optional: true}
  gender: {column: 性别, optional: true, map: {男: "1", 女: "2"}}
  mobile: {column: [手机, 手机号], optional: true, transform: [mobile]}
  telephone: {column: 座机, optional: true}
  email: {column: [个人邮箱, 邮箱], optional: true, transform: [trim, lower]}
  biz_mail: {column: 企业邮箱, optional: true, transform: [trim, lower]}
  address: {column: 地址, optional: true}
  external_position: {column: 对外职务, optional: true}
departments:
  path_column: 部门
  separator: /
  multi: ";"
`,
	// The batch import template (batch_user_sample.csv, batch/syncuser):
	// 所在部门 holds department ids separated by ";", named by the
	// department template (batch_party_sample.csv), the job's
	// department_source.
	"wecom-batch": `
fields:
  userid: [帐号, 账号]
  name: {column: 姓名, transform: [trim]}
  mobile: {column: [手机号, 手机], optional: true, transform: [mobile]}
  email: {column: 邮箱, optional: true, transform: [trim, lower]}
  position: {column: 职位, optional: true}
  gender: {column: 性别, optional: true, map: {男: "1", 女: "2", "1": "1", "2": "2"}}
  is_leader: {column: 是否部门内领导, optional: true}
  order: {column: 排序, optional: true}
  alias: {column: 别名, optional: true}
  address: {column: 地址, optional: true}
  telephone: {column: 座机, optional: true}
  enable: {column: 禁用, optional: true, map: {"0": "1", "1": "0"}}
departments:
  department_code_column: 所在部门
  multi: ";"
  table: {id_column: 部门ID, parent_column: 父部门ID, name_column: 部门名称, order_column: 排序, root_id: "1"}
`,
}

// presetNames lists the presets for messages.
func presetNames() string {
	return strings.Join(slices.Sorted(maps.Keys(presets)), ", ")
}

// withPreset is m on top of its preset: a field, the status or an extattr
// m names replaces the preset's; each departments key m sets replaces the
// preset's, and a department table in m replaces a preset's path column
// (and the other way round); m's tag rules follow the preset's.
func (m mapping) withPreset() (mapping, error) {
	if m.Preset == "" {
		return m, nil
	}
	src, ok := presets[m.Preset]
	if !ok {
		return m, fmt.Errorf("mapping.preset %q: unknown (want one of %s)", m.Preset, presetNames())
	}
	var p mapping
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return m, fmt.Errorf("preset %s: %w", m.Preset, err)
	}
	out := p
	out.Preset = m.Preset
	out.Fields = merged(p.Fields, m.Fields)
	out.ExtAttr = merged(p.ExtAttr, m.ExtAttr)
	out.Tags = append(p.Tags, m.Tags...)
	if m.Status != nil {
		out.Status = m.Status
	}
	if m.OnUnknownLeader != "" {
		out.OnUnknownLeader = m.OnUnknownLeader
	}
	if m.MaxDirectLeaders != 0 {
		out.MaxDirectLeaders = m.MaxDirectLeaders
	}
	out.Departments = p.Departments.overlay(m.Departments)
	return out, nil
}

// merged is base with over's entries on top; nil when both are.
func merged[V any](base, over map[string]V) map[string]V {
	if base == nil && over == nil {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, over)
	return out
}

// overlay is d with each key over sets replacing d's.
func (d departments) overlay(over departments) departments {
	if over.Table != nil || over.DepartmentCodeColumn != "" {
		d.PathColumn, d.Separator, d.StripPrefix, d.CodeColumn = "", "", "", ""
	}
	if over.PathColumn != "" {
		d.Table, d.DepartmentCodeColumn = nil, ""
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&d.PathColumn, over.PathColumn)
	set(&d.Separator, over.Separator)
	set(&d.StripPrefix, over.StripPrefix)
	set(&d.Multi, over.Multi)
	set(&d.CodeColumn, over.CodeColumn)
	set(&d.DepartmentCodeColumn, over.DepartmentCodeColumn)
	if over.MaxDepth != 0 {
		d.MaxDepth = over.MaxDepth
	}
	if over.NameMax != 0 {
		d.NameMax = over.NameMax
	}
	if over.Table != nil {
		d.Table = over.Table
	}
	return d
}
