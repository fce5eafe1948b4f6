package wecomsim

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Official pages the field rules come from, as paths under
// https://developer.work.weixin.qq.com/document/path/. docs/wecom.md §3
// restates every rule in this project's words.
const (
	pageUserCreate = "90195"
	pageUserGet    = "90196"
	pageUserUpdate = "90197"
	pageErrcodes   = "90313"
	pageDeptCreate = "90205"
	pageDeptUpdate = "90206"
	// The tag pages: create 90210, update 90211, delete 90212, get
	// 90213, addtagusers 90214, deltagusers 90215, list 90216.
	pageTagCreate   = "90210"
	pageTagAddUsers = "90214"
	pageTagDelUsers = "90215"
	// pageEmulator marks an errcode the pages do not give; the emulator
	// picked it (doc.go lists each such choice).
	pageEmulator = "emulator"
)

// fieldUse says on which call a field is writable.
type fieldUse uint8

const (
	onCreate fieldUse = 1 << iota
	onUpdate
	onBoth = onCreate | onUpdate
)

// fieldRule is one documented rule of a field and the errcode that a value
// breaking it is answered with. src is the page the errcode comes from.
type fieldRule struct {
	rule string
	code int
	src  string
}

// memberField is one writable member field of user/create and
// user/update. The table below is the only list of them: parsing,
// merging, validation and the user/get rendering all walk it, and
// fields_test.go walks it over HTTP, so a field cannot be accepted and
// then silently dropped.
type memberField struct {
	name  string   // JSON key in the request body
	typ   string   // JSON type the pages give
	use   fieldUse // which calls accept it; other calls ignore the key
	page  string   // the page that documents the field
	rules []fieldRule
	// shown names the user/get keys the field is rendered under; empty
	// for a write-only field (to_invite).
	shown []string

	// parse decodes body[name] (never absent or null) into in and answers
	// 0 or the errcode for a value of the wrong shape.
	parse func(raw json.RawMessage, in *userInput) int
	// apply merges the parsed value into u; nil when another field's
	// apply does it (order and is_leader_in_dept go with department).
	apply func(s *Server, u *user, in *userInput, creating bool) int
	// check validates the merged member; key is its own uniqueness key
	// ("" on create).
	check func(s *Server, u *user, key string) int
	// render writes the field into a user/get object.
	render func(s *Server, u *user, sec *Secret, m map[string]any)
}

// memberFields follows the order of the create page. Checks run in this
// order, so when a body breaks several rules the first field's code wins.
var memberFields = []memberField{
	{
		name: "userid", typ: "string", use: onBoth, page: pageUserCreate, shown: []string{"userid"},
		rules: []fieldRule{
			{"required", 41009, pageEmulator},
			{"at most 64 bytes", 40058, pageErrcodes},
			{"characters [0-9A-Za-z_-@.], the first a letter or digit", 40003, pageErrcodes},
			{"unique in the corp, ignoring case", 60102, pageErrcodes},
		},
		parse:  parseInto(func(in *userInput) any { return &in.userID }),
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) { m["userid"] = u.UserID },
	},
	textField("name", func(u *SnapUser) *string { return &u.Name },
		[]fieldRule{{"1-64 UTF-8 characters, required on create", 60112, pageErrcodes}},
		func(v string) int {
			if n := runeLen(v); n < 1 || n > 64 {
				return 60112
			}
			return 0
		}),
	textField("alias", func(u *SnapUser) *string { return &u.Alias },
		[]fieldRule{{"at most 64 UTF-8 characters", 40058, pageEmulator}},
		maxRunes(64, 40058)),
	mobileField(),
	{
		name: "department", typ: "int[]", use: onBoth, page: pageUserCreate,
		shown: []string{"department"},
		rules: []fieldRule{
			{"a JSON array of department ids, not a string", 41019, pageErrcodes},
			{"required and non-empty (strict mode)", 60127, pageErrcodes},
			{"every id an existing department (strict mode)", 60123, pageErrcodes},
			{"at most MaxUserDepartments ids (default 100)", 60110, pageErrcodes},
			{"no id twice", 40066, pageEmulator},
		},
		parse: parseDepartment,
		apply: (*Server).applyDepartments,
		render: func(s *Server, u *user, sec *Secret, m map[string]any) {
			m["department"] = visibleDeptValues(s, u, sec, func(i int) int { return u.Department[i] })
		},
	},
	{
		name: "order", typ: "int[]", use: onBoth, page: pageUserCreate, shown: []string{"order"},
		rules: []fieldRule{
			{"one value per department; ignored on update without department", 40058, pageEmulator},
			{"each value in [0, 2^32)", 40058, pageEmulator},
		},
		parse: func(raw json.RawMessage, in *userInput) int {
			in.hasOrder = true
			return decodeOr40058(raw, &in.order)
		},
		render: func(s *Server, u *user, sec *Secret, m map[string]any) {
			m["order"] = visibleDeptValues(s, u, sec, func(i int) uint32 { return at(u.Order, i) })
		},
	},
	textField("position", func(u *SnapUser) *string { return &u.Position },
		[]fieldRule{{"at most 128 characters", 301012, pageErrcodes}},
		maxRunes(128, 301012)),
	{
		name: "gender", typ: "string", use: onBoth, page: pageUserCreate, shown: []string{"gender"},
		rules: []fieldRule{{`"1" male or "2" female ("0"/0 leave it unset; numbers accepted as SDKs send them)`, 40058, pageEmulator}},
		parse: parseGender,
		apply: func(_ *Server, u *user, in *userInput, _ bool) int {
			if in.gender != nil {
				u.Gender = *in.gender
			}
			return 0
		},
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) { m["gender"] = u.Gender },
	},
	emailField(),
	bizMailField(),
	textField("telephone", func(u *SnapUser) *string { return &u.Telephone },
		[]fieldRule{{"at most 32 bytes of digits, -, + and ,", 301013, pageErrcodes}},
		func(v string) int {
			if len(v) > 32 || !telephoneRe.MatchString(v) {
				return 301013
			}
			return 0
		}),
	{
		name: "is_leader_in_dept", typ: "int[]", use: onBoth, page: pageUserCreate, shown: []string{"is_leader_in_dept"},
		rules: []fieldRule{
			{"one flag per department (the current ones when department is absent)", 60132, pageErrcodes},
			{"each flag 0 or 1", 40058, pageEmulator},
		},
		parse: func(raw json.RawMessage, in *userInput) int {
			in.hasLeader = true
			return decodeOr40058(raw, &in.isLeader)
		},
		render: func(s *Server, u *user, sec *Secret, m map[string]any) {
			m["is_leader_in_dept"] = visibleDeptValues(s, u, sec, func(i int) int { return at(u.IsLeaderInDept, i) })
		},
	},
	{
		name: "direct_leader", typ: "string[]", use: onBoth, page: pageUserCreate, shown: []string{"direct_leader"},
		rules: []fieldRule{
			{"at most MaxDirectLeaders userids (default 1)", 60257, pageErrcodes},
			{"each leader an existing member", 60111, pageEmulator},
		},
		parse: func(raw json.RawMessage, in *userInput) int {
			in.hasDL = true
			return decodeOr40058(raw, &in.directLeader)
		},
		apply: func(_ *Server, u *user, in *userInput, _ bool) int {
			if in.hasDL {
				u.DirectLeader = append([]string(nil), in.directLeader...)
			}
			return 0
		},
		check: (*Server).checkDirectLeaders,
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) {
			m["direct_leader"] = append([]string{}, u.DirectLeader...)
		},
	},
	{
		name: "avatar_mediaid", typ: "string", use: onBoth, page: pageUserCreate,
		shown: []string{"avatar", "thumb_avatar"},
		rules: []fieldRule{{"a live image media_id from media/upload", 40007, pageErrcodes}},
		parse: parseInto(func(in *userInput) any { return &in.avatar }),
		apply: (*Server).applyAvatar,
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) {
			m["avatar"], m["thumb_avatar"] = u.Avatar, thumbOf(u.Avatar)
		},
	},
	{
		name: "enable", typ: "int", use: onBoth, page: pageUserCreate, shown: []string{"enable"},
		rules: []fieldRule{{"1 enabled or 0 disabled", 40058, pageEmulator}},
		parse: func(raw json.RawMessage, in *userInput) int {
			var v int
			if code := decodeOr40058(raw, &v); code != 0 {
				return code
			}
			if v != 0 && v != 1 {
				return 40058
			}
			in.enable = &v
			return 0
		},
		apply: func(_ *Server, u *user, in *userInput, _ bool) int {
			if in.enable != nil {
				u.Enable = *in.enable
			}
			return 0
		},
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) { m["enable"] = u.Enable },
	},
	{
		name: "extattr", typ: "object", use: onBoth, page: pageUserCreate, shown: []string{"extattr"},
		rules: []fieldRule{
			{`{"attrs":[...]}, each attr with a name and type 0 text, 1 web or 2 miniprogram`, 40058, pageEmulator},
			{"text value at most 64 UTF-8 characters", 40058, pageEmulator},
			{"web url starts with http:// or https://; title at most 12 characters; url and title both set or both empty", 40058, pageEmulator},
			{"names not registered in the admin console (ExtAttrNames) are dropped silently", 0, pageUserCreate},
			{`user/get shows {"attrs":[]} for a member without attributes`, 0, pageUserGet},
		},
		parse: func(raw json.RawMessage, in *userInput) int {
			attrs, present, code := parseExtAttrObject(raw)
			in.hasExtAttr, in.extAttr = present, attrs
			return code
		},
		apply: (*Server).applyExtAttr,
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) {
			m["extattr"] = map[string]any{"attrs": nonNil(u.ExtAttr)}
		},
	},
	{
		name: "to_invite", typ: "bool", use: onCreate, page: pageUserCreate,
		rules: []fieldRule{{"a JSON boolean; default true; write-only", 40058, pageEmulator}},
		parse: parseInto(func(in *userInput) any { return &in.toInvite }),
		apply: func(_ *Server, u *user, in *userInput, creating bool) int {
			if creating {
				u.Invited = in.toInvite == nil || *in.toInvite
			}
			return 0
		},
	},
	textField("external_position", func(u *SnapUser) *string { return &u.ExternalPosition },
		[]fieldRule{{"at most 12 characters", 40058, pageEmulator}},
		maxRunes(12, 40058)),
	{
		name: "external_profile", typ: "object", use: onBoth, page: pageUserCreate, shown: []string{"external_profile"},
		rules: []fieldRule{
			{"an object of external_corp_name, wechat_channels{nickname} and external_attr[]", 40058, pageEmulator},
			{"external_attr text value at most 32 UTF-8 characters; web and miniprogram titles at most 12", 40058, pageEmulator},
		},
		parse: parseExternalProfile,
		apply: (*Server).applyExternalProfile,
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) {
			p := ExternalProfile{}
			if u.ExternalProfile != nil {
				p = *u.ExternalProfile
			}
			p.ExternalAttr = nonNil(p.ExternalAttr)
			m["external_profile"] = p
		},
	},
	{
		// The video-channel name; user/get shows it inside external_profile.
		name: "nickname", typ: "string", use: onBoth, page: pageUserCreate,
		shown: []string{"external_profile"},
		rules: []fieldRule{{"a string (the channel must be bound to the corp; not checked)", 40058, pageEmulator}},
		parse: parseInto(func(in *userInput) any { return &in.nickname }),
		apply: func(_ *Server, u *user, in *userInput, _ bool) int {
			if in.nickname != nil {
				profile(u).WechatChannels.Nickname = *in.nickname
			}
			return 0
		},
	},
	textField("address", func(u *SnapUser) *string { return &u.Address },
		[]fieldRule{{"at most 128 characters", 40058, pageEmulator}},
		maxRunes(128, 40058)),
	{
		name: "main_department", typ: "int", use: onBoth, page: pageUserCreate, shown: []string{"main_department"},
		rules: []fieldRule{{"one of the member's departments (0 leaves it unset)", 40058, pageEmulator}},
		parse: func(raw json.RawMessage, in *userInput) int {
			var v int
			if code := decodeOr40058(raw, &v); code != 0 {
				return code
			}
			// No department has id 0: SDKs that send every field
			// (silenceper's UserUpdateRequest) mean "unchanged".
			if v != 0 {
				in.mainDept = &v
			}
			return 0
		},
		apply: func(_ *Server, u *user, in *userInput, _ bool) int {
			if in.mainDept != nil {
				u.MainDepartment = *in.mainDept
			}
			if len(u.Department) > 0 && (u.MainDepartment == 0 ||
				in.mainDept == nil && !containsInt(u.Department, u.MainDepartment)) {
				// Unset, or the old main department was dropped: the first.
				u.MainDepartment = u.Department[0]
			}
			return 0
		},
		check: func(_ *Server, u *user, _ string) int {
			if !containsInt(u.Department, u.MainDepartment) {
				return 40058
			}
			return 0
		},
		render: func(s *Server, u *user, sec *Secret, m map[string]any) {
			if visibleDept(s, sec, u.MainDepartment) {
				m["main_department"] = u.MainDepartment
			}
		},
	},
	{
		// updateUser refuses a rename before merging anything.
		name: "new_userid", typ: "string", use: onUpdate, page: pageUserUpdate, shown: []string{"userid"},
		rules: []fieldRule{{"only once and only for a system-generated userid (none is, here)", 301036, pageErrcodes}},
		parse: parseInto(func(in *userInput) any { return &in.newUserID }),
	},
}

// userInput is a decoded create/update body. A nil pointer or a false
// has* flag means the key was absent, which matters because update is
// partial.
type userInput struct {
	text                                map[string]string // textField values present
	userID, newUserID, gender           *string
	avatar, nickname                    *string
	department                          []int
	order                               []int64
	isLeader                            []int
	directLeader                        []string
	hasDept, hasOrder, hasLeader, hasDL bool
	mainDept, enable                    *int
	toInvite                            *bool
	extAttr                             []ExtAttr
	hasExtAttr                          bool
	profile                             *profileInput
	autoDepts                           []int // unknown ids AutoCreateDepartment will create
}

// parseUserInput decodes every table field the call accepts. Keys outside
// the table are ignored, as WeCom ignores keys it does not know.
func parseUserInput(body map[string]json.RawMessage, use fieldUse) (*userInput, int) {
	in := &userInput{text: map[string]string{}}
	for i := range memberFields {
		f := &memberFields[i]
		raw, ok := body[f.name]
		if f.use&use == 0 || !ok || isNull(raw) {
			continue
		}
		if code := f.parse(raw, in); code != 0 {
			return nil, code
		}
	}
	return in, 0
}

// mergeUser applies in to u field by field, then validates the result.
func (s *Server) mergeUser(u *user, in *userInput, creating bool, key string) int {
	for i := range memberFields {
		if f := &memberFields[i]; f.apply != nil {
			if code := f.apply(s, u, in, creating); code != 0 {
				return code
			}
		}
	}
	for i := range memberFields {
		if f := &memberFields[i]; f.check != nil {
			if code := f.check(s, u, key); code != 0 {
				return code
			}
		}
	}
	return 0
}

// userJSON renders a member as user/get does, trimmed to what sec may see.
func (s *Server) userJSON(u *user, sec *Secret) map[string]any {
	m := make(map[string]any, 32)
	for i := range memberFields {
		if f := &memberFields[i]; f.render != nil {
			f.render(s, u, sec, m)
		}
	}
	m["status"] = u.Status
	m["qr_code"] = qrCodeURL(s.opts.CorpID, u.UserID)
	if sec != nil && sec.Kind == App && sec.Restricted {
		// The 2022-06-20 restriction: these read as blank (gender "0").
		m["gender"] = "0"
		for _, k := range []string{"mobile", "email", "biz_mail", "address", "avatar", "thumb_avatar", "qr_code"} {
			m[k] = ""
		}
	}
	return m
}

// textField is a plain string field: stored as sent, shown under its own
// name, checked by check on the merged value.
func textField(name string, get func(*SnapUser) *string, rules []fieldRule, check func(string) int) memberField {
	return memberField{
		name: name, typ: "string", use: onBoth, page: pageUserCreate, rules: rules, shown: []string{name},
		parse: func(raw json.RawMessage, in *userInput) int {
			var v string
			if code := decodeOr40058(raw, &v); code != 0 {
				return code
			}
			in.text[name] = v
			return 0
		},
		apply: func(_ *Server, u *user, in *userInput, _ bool) int {
			if v, ok := in.text[name]; ok {
				*get(&u.SnapUser) = v
			}
			return 0
		},
		check: func(_ *Server, u *user, _ string) int {
			if check == nil {
				return 0
			}
			return check(*get(&u.SnapUser))
		},
		render: func(_ *Server, u *user, _ *Secret, m map[string]any) { m[name] = *get(&u.SnapUser) },
	}
}

func maxRunes(n, code int) func(string) int {
	return func(v string) int {
		if runeLen(v) > n {
			return code
		}
		return 0
	}
}

func mobileField() memberField {
	f := textField("mobile", func(u *SnapUser) *string { return &u.Mobile }, []fieldRule{
		{`digits, spaces and "-", an optional leading "+", 5-32 characters`, 60103, pageErrcodes},
		{"unique in the corp (spaces and dashes ignored)", 60104, pageErrcodes},
		{"silently ignored on update once the member is activated", 0, pageUserUpdate},
	}, nil)
	set := f.apply
	f.apply = func(s *Server, u *user, in *userInput, creating bool) int {
		if !creating && u.activated {
			return 0 // an activated member's mobile belongs to them
		}
		return set(s, u, in, creating)
	}
	f.check = func(s *Server, u *user, key string) int {
		if u.Mobile == "" {
			return 0
		}
		if !mobileRe.MatchString(u.Mobile) {
			return 60103
		}
		if heldByOther(s.idx.byMobile, mobileKey(u.Mobile), key) {
			return 60104
		}
		return 0
	}
	return f
}

func emailField() memberField {
	f := textField("email", func(u *SnapUser) *string { return &u.Email }, []fieldRule{
		{"6-64 bytes in email format", 60105, pageErrcodes},
		{"unique in the corp, ignoring case", 60106, pageErrcodes},
		{"mobile and email not both empty", 60129, pageErrcodes},
	}, nil)
	f.check = func(s *Server, u *user, key string) int {
		if u.Email != "" {
			if len(u.Email) < 6 || len(u.Email) > 64 || !emailRe.MatchString(u.Email) {
				return 60105
			}
			if heldByOther(s.idx.byEmail, foldKey(u.Email), key) {
				return 60106
			}
		}
		if u.Mobile == "" && u.Email == "" {
			return 60129
		}
		return 0
	}
	return f
}

func bizMailField() memberField {
	f := textField("biz_mail", func(u *SnapUser) *string { return &u.BizMail }, []fieldRule{
		{"6-64 bytes in email format", 60143, pageErrcodes},
		{"unique in the corp, ignoring case", 60145, pageErrcodes},
	}, nil)
	f.check = func(s *Server, u *user, key string) int {
		if u.BizMail == "" {
			return 0
		}
		if len(u.BizMail) < 6 || len(u.BizMail) > 64 || !emailRe.MatchString(u.BizMail) {
			return 60143
		}
		if heldByOther(s.idx.byBiz, foldKey(u.BizMail), key) {
			return 60145
		}
		return 0
	}
	return f
}

// parseInto decodes a scalar into the *T field target returns (a **T
// behind any), so a present key becomes a non-nil pointer.
func parseInto(target func(in *userInput) any) func(json.RawMessage, *userInput) int {
	return func(raw json.RawMessage, in *userInput) int {
		return decodeOr40058(raw, target(in))
	}
}

func decodeOr40058(raw json.RawMessage, dst any) int {
	if json.Unmarshal(raw, dst) != nil {
		return 40058
	}
	return 0
}

// parseDepartment answers 41019 for a department list sent as a string
// ("1" or ["1"]), the case 41019's help text names, and 40058 for any
// other shape.
func parseDepartment(raw json.RawMessage, in *userInput) int {
	in.hasDept = true
	if json.Unmarshal(raw, &in.department) == nil {
		return 0
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '"' {
		return 41019
	}
	var items []any
	if json.Unmarshal(raw, &items) == nil {
		for _, it := range items {
			if _, isString := it.(string); isString {
				return 41019
			}
		}
	}
	return 40058
}

// parseGender reads gender, which the docs type as the string "1" or "2"
// but widely used SDKs send as a JSON number with 0 as the default
// (wechatpy's user.create(gender=0), silenceper/wechat's Gender int), so
// the real service must accept both. 0 and "0" mean "not specified".
func parseGender(raw json.RawMessage, in *userInput) int {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 40058
	}
	var g string
	switch x := v.(type) {
	case string:
		g = x
	case float64:
		if x == 0 || x == 1 || x == 2 {
			g = string(rune('0' + int(x)))
		}
	}
	switch g {
	case "1", "2":
		in.gender = &g
		return 0
	case "0":
		return 0
	}
	return 40058
}

// visibleDeptValues lists one value per department of u that sec may see,
// so department, order and is_leader_in_dept stay aligned.
func visibleDeptValues[T any](s *Server, u *user, sec *Secret, value func(i int) T) []T {
	out := make([]T, 0, len(u.Department))
	for i, d := range u.Department {
		if visibleDept(s, sec, d) {
			out = append(out, value(i))
		}
	}
	return out
}

func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// checkDirectLeaders enforces the cap and that every leader exists, and
// stores each leader under its canonical spelling.
func (s *Server) checkDirectLeaders(u *user, _ string) int {
	if len(u.DirectLeader) > s.opts.MaxDirectLeaders {
		return 60257
	}
	for i, l := range u.DirectLeader {
		// The errcode for a missing leader is not documented; 60111
		// ("userid not found") is the natural reading.
		lu := s.users[userKey(l)]
		if lu == nil {
			return 60111
		}
		u.DirectLeader[i] = lu.UserID
	}
	return 0
}

// qrCodeURL is the member's personal QR code link. Production's vcode is
// opaque; a digest of corp and userid keeps it stable across restarts.
func qrCodeURL(corp, userid string) string {
	return "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=" + shortDigest(corp+"\x00"+strings.ToLower(userid))
}
