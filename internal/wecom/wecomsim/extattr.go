package wecomsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
)

// ExtAttr is one entry of extattr.attrs or external_profile.external_attr.
// Only the member matching Type is kept: SDKs send all three.
type ExtAttr struct {
	Type        int                 `json:"type"`
	Name        string              `json:"name"`
	Text        *ExtAttrText        `json:"text,omitempty"`
	Web         *ExtAttrWeb         `json:"web,omitempty"`
	Miniprogram *ExtAttrMiniprogram `json:"miniprogram,omitempty"`
}

// ExtAttrText is a text attribute (type 0).
type ExtAttrText struct {
	Value string `json:"value"`
}

// ExtAttrWeb is a web attribute (type 1).
type ExtAttrWeb struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// ExtAttrMiniprogram is a miniprogram attribute (type 2).
type ExtAttrMiniprogram struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath"`
	Title    string `json:"title"`
}

// ExternalProfile is a member's 对外属性 as user/get shows it.
type ExternalProfile struct {
	ExternalCorpName string         `json:"external_corp_name"`
	WechatChannels   WechatChannels `json:"wechat_channels"`
	ExternalAttr     []ExtAttr      `json:"external_attr"`
}

// WechatChannels is the member's video channel (视频号). Status is
// read-only: 0 confirmed, 1 awaiting confirmation. The emulated corp has
// no channels to confirm, so it is always 0.
type WechatChannels struct {
	Nickname string `json:"nickname"`
	Status   int    `json:"status"`
}

const (
	attrText        = 0
	attrWeb         = 1
	attrMiniprogram = 2

	extAttrTextMax      = 64 // extattr text value, UTF-8 characters
	externalAttrTextMax = 32 // external_attr text value
	attrTitleMax        = 12 // web and miniprogram titles
)

// empty reports an attribute that clears itself: the pages say a web
// attribute with url and title both empty clears it, and the emulator
// reads an empty text value (or miniprogram appid) the same way.
func (a ExtAttr) empty() bool {
	switch a.Type {
	case attrText:
		return a.Text == nil || a.Text.Value == ""
	case attrWeb:
		return a.Web == nil || a.Web.URL == "" && a.Web.Title == ""
	default:
		return a.Miniprogram == nil || a.Miniprogram.AppID == ""
	}
}

func cloneAttrs(list []ExtAttr) []ExtAttr {
	if list == nil {
		return nil
	}
	out := make([]ExtAttr, len(list))
	for i, a := range list {
		if a.Text != nil {
			t := *a.Text
			a.Text = &t
		}
		if a.Web != nil {
			w := *a.Web
			a.Web = &w
		}
		if a.Miniprogram != nil {
			m := *a.Miniprogram
			a.Miniprogram = &m
		}
		out[i] = a
	}
	return out
}

func cloneProfile(p *ExternalProfile) *ExternalProfile {
	if p == nil {
		return nil
	}
	c := *p
	c.ExternalAttr = cloneAttrs(p.ExternalAttr)
	return &c
}

// parseAttrs decodes an attribute array; textMax is the text value cap,
// which differs between extattr and external_attr. A null array is nil.
func parseAttrs(raw json.RawMessage, textMax int) ([]ExtAttr, int) {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, 40058
	}
	out := make([]ExtAttr, 0, len(items))
	for _, it := range items {
		a, code := parseAttr(it, textMax)
		if code != 0 {
			return nil, code
		}
		out = append(out, a)
	}
	return out, 0
}

func parseAttr(raw json.RawMessage, textMax int) (ExtAttr, int) {
	var in struct {
		Type        *int                `json:"type"`
		Name        string              `json:"name"`
		Text        *ExtAttrText        `json:"text"`
		Web         *ExtAttrWeb         `json:"web"`
		Miniprogram *ExtAttrMiniprogram `json:"miniprogram"`
	}
	if json.Unmarshal(raw, &in) != nil || in.Type == nil || in.Name == "" {
		return ExtAttr{}, 40058
	}
	a := ExtAttr{Type: *in.Type, Name: in.Name}
	switch a.Type {
	case attrText:
		a.Text = &ExtAttrText{}
		if in.Text != nil {
			*a.Text = *in.Text
		}
		if runeLen(a.Text.Value) > textMax {
			return ExtAttr{}, 40058
		}
	case attrWeb:
		a.Web = &ExtAttrWeb{}
		if in.Web != nil {
			*a.Web = *in.Web
		}
		w := a.Web
		if (w.URL == "") != (w.Title == "") || runeLen(w.Title) > attrTitleMax ||
			w.URL != "" && !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
			return ExtAttr{}, 40058
		}
	case attrMiniprogram:
		a.Miniprogram = &ExtAttrMiniprogram{}
		if in.Miniprogram != nil {
			*a.Miniprogram = *in.Miniprogram
		}
		if runeLen(a.Miniprogram.Title) > attrTitleMax {
			return ExtAttr{}, 40058
		}
	default:
		return ExtAttr{}, 40058
	}
	return a, 0
}

// parseExtAttrObject reads {"attrs":[...]}. SDKs with a struct field send
// {"attrs":null} when they have nothing to say; that counts as absent.
func parseExtAttrObject(raw json.RawMessage) ([]ExtAttr, bool, int) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, false, 40058
	}
	attrsRaw, ok := obj["attrs"]
	if !ok || isNull(attrsRaw) {
		return nil, false, 0
	}
	attrs, code := parseAttrs(attrsRaw, extAttrTextMax)
	return attrs, code == 0, code
}

// profileInput is a decoded external_profile; nil pointers and a false
// hasAttrs mean the key was absent and the stored value stays.
type profileInput struct {
	corpName, nickname *string
	attrs              []ExtAttr
	hasAttrs           bool
}

func parseExternalProfile(raw json.RawMessage, in *userInput) int {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return 40058
	}
	p := &profileInput{}
	if v, ok := obj["external_corp_name"]; ok && !isNull(v) {
		p.corpName = new(string)
		if json.Unmarshal(v, p.corpName) != nil {
			return 40058
		}
	}
	if v, ok := obj["wechat_channels"]; ok && !isNull(v) {
		var ch struct {
			Nickname *string `json:"nickname"`
		}
		if json.Unmarshal(v, &ch) != nil {
			return 40058
		}
		p.nickname = ch.Nickname
	}
	if v, ok := obj["external_attr"]; ok && !isNull(v) {
		attrs, code := parseAttrs(v, externalAttrTextMax)
		if code != 0 {
			return code
		}
		p.attrs, p.hasAttrs = attrs, true
	}
	in.profile = p
	return 0
}

// registered reports whether name is an attribute the admin console
// defines; nil ExtAttrNames stands for a console that defines every name.
func (s *Server) registered(name string) bool {
	return s.opts.ExtAttrNames == nil || slices.Contains(s.opts.ExtAttrNames, name)
}

// keepRegistered drops unregistered and self-clearing attributes.
func (s *Server) keepRegistered(attrs []ExtAttr) []ExtAttr {
	var out []ExtAttr
	for _, a := range attrs {
		if s.registered(a.Name) && !a.empty() {
			out = append(out, a)
		}
	}
	return out
}

// applyExtAttr sets extattr. On create, and on update with
// ExtAttrReplaceOnUpdate, the list replaces the stored one. By default an
// update merges by name: a listed attribute replaces the stored one of
// that name, an empty one removes it, unlisted ones stay.
func (s *Server) applyExtAttr(u *user, in *userInput, creating bool) int {
	if !in.hasExtAttr {
		return 0
	}
	if creating || s.opts.ExtAttrReplaceOnUpdate {
		u.ExtAttr = s.keepRegistered(in.extAttr)
		return 0
	}
	u.ExtAttr = s.mergeAttrs(u.ExtAttr, in.extAttr)
	return 0
}

func (s *Server) mergeAttrs(stored, update []ExtAttr) []ExtAttr {
	out := cloneAttrs(stored)
	for _, a := range update {
		if !s.registered(a.Name) {
			continue
		}
		i := slices.IndexFunc(out, func(b ExtAttr) bool { return b.Name == a.Name })
		switch {
		case a.empty() && i >= 0:
			out = slices.Delete(out, i, i+1)
		case a.empty():
		case i >= 0:
			out[i] = a
		default:
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// profile returns u's external profile, creating it on first use.
func profile(u *user) *ExternalProfile {
	if u.ExternalProfile == nil {
		u.ExternalProfile = &ExternalProfile{}
	}
	return u.ExternalProfile
}

// applyExternalProfile sets the keys of external_profile that were sent;
// external_attr replaces the stored list (it is the whole 对外属性 set).
func (s *Server) applyExternalProfile(u *user, in *userInput, _ bool) int {
	p := in.profile
	if p == nil {
		return 0
	}
	prof := profile(u)
	if p.corpName != nil {
		prof.ExternalCorpName = *p.corpName
	}
	if p.nickname != nil {
		prof.WechatChannels.Nickname = *p.nickname
	}
	if p.hasAttrs {
		prof.ExternalAttr = s.keepRegistered(p.attrs)
	}
	return 0
}

// applyAvatar resolves avatar_mediaid to the avatar URL user/get shows.
// An empty id leaves the avatar alone: SDKs send "" for "no change".
func (s *Server) applyAvatar(u *user, in *userInput, _ bool) int {
	if in.avatar == nil || *in.avatar == "" {
		return 0
	}
	url, code := s.avatarURL(*in.avatar)
	if code != 0 {
		return code
	}
	u.Avatar = url
	return 0
}

// thumbOf derives thumb_avatar the way production's URLs differ: the
// full-size image ends in /0, the thumbnail in /100.
func thumbOf(avatar string) string {
	if base, ok := strings.CutSuffix(avatar, "/0"); ok {
		return base + "/100"
	}
	return avatar
}

// shortDigest is a stable, opaque, URL-safe token for s.
func shortDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}
