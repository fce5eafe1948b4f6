package mapper

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// AttrSource is where one extattr (a custom field defined in the WeCom
// admin console) takes its value. A text attribute is a Field; a web
// attribute (Web set, Field empty) has a url and a title, each a Field.
type AttrSource struct {
	Field
	Web *WebSource
}

// WebSource is the url and title of a web attribute.
type WebSource struct {
	URL   Field
	Title Field
}

// ExtAttr is one entry of a member's extattr.attrs, in WeCom's wire shape
// (docs/wecom.md §3) so it can move into wecom.User unchanged.
type ExtAttr struct {
	Type int         `json:"type"` // AttrTypeText or AttrTypeWeb
	Name string      `json:"name"`
	Text ExtAttrText `json:"text"`
	Web  ExtAttrWeb  `json:"web"`
}

// MarshalJSON writes the text or the web part, whichever Type says, and
// writes it even when empty: {"value": ""} is how WeCom is told to clear
// an attribute, while a missing part would leave it unclear.
func (a ExtAttr) MarshalJSON() ([]byte, error) {
	type wire struct {
		Type int          `json:"type"`
		Name string       `json:"name"`
		Text *ExtAttrText `json:"text,omitempty"`
		Web  *ExtAttrWeb  `json:"web,omitempty"`
	}
	w := wire{Type: a.Type, Name: a.Name}
	if a.Type == AttrTypeWeb {
		w.Web = &a.Web
	} else {
		w.Text = &a.Text
	}
	return json.Marshal(w)
}

// ExtAttr.Type values.
const (
	AttrTypeText = 0
	AttrTypeWeb  = 1
)

// ExtAttrText is a text attribute's value.
type ExtAttrText struct {
	Value string `json:"value"`
}

// ExtAttrWeb is a web attribute's link.
type ExtAttrWeb struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// WeCom's extattr limits (docs/wecom.md §3).
const (
	maxAttrTextChars  = 64
	maxAttrTitleChars = 12
)

// attr is a compiled AttrSource.
type attr struct {
	name       string
	text       *field // text attribute
	url, title *field // web attribute
}

func compileAttrs(srcs map[string]AttrSource) ([]attr, error) {
	names := make([]string, 0, len(srcs))
	for name := range srcs {
		names = append(names, name)
	}
	// Sorted, so a member's attrs and the first failing rule are the same
	// on every run whatever the map order.
	sort.Strings(names)
	var out []attr
	for _, name := range names {
		s := srcs[name]
		a := attr{name: name}
		var err error
		if s.Web != nil {
			if a.url, err = compileField("extattr "+name+" url", s.Web.URL); err != nil {
				return nil, err
			}
			if a.title, err = compileField("extattr "+name+" title", s.Web.Title); err != nil {
				return nil, err
			}
		} else if a.text, err = compileField("extattr "+name, s.Field); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// validate reports the config mistakes of one attribute.
func (s AttrSource) validate(key string) []error {
	if s.Web == nil {
		return s.Field.validate(key, nil)
	}
	if s.Field.Column != "" || s.Field.Const != "" || s.Field.Template != "" || len(s.Field.Transform) > 0 || s.Field.Map != nil || s.Field.Default != "" {
		return []error{fmt.Errorf("%s: a web attribute holds only web: {url, title}", key)}
	}
	errs := s.Web.URL.validate(key+".web.url", nil)
	return append(errs, s.Web.Title.validate(key+".web.title", nil)...)
}

// value maps one row's attribute, checking WeCom's limits. An empty value
// is kept, not dropped: it clears the attribute in WeCom, which is what an
// emptied HR cell means.
func (a attr) value(row Row) (ExtAttr, *RowError) {
	if a.text != nil {
		v, rerr := a.text.value(row)
		if rerr != nil {
			return ExtAttr{}, rerr
		}
		if chars(v) > maxAttrTextChars {
			return ExtAttr{}, &RowError{Ref: row.Ref, Column: a.text.label, Rule: RuleExtAttrTextLength,
				Message: fmt.Sprintf("extattr %s is %d characters, WeCom allows %d", a.name, chars(v), maxAttrTextChars)}
		}
		return ExtAttr{Type: AttrTypeText, Name: a.name, Text: ExtAttrText{Value: v}}, nil
	}
	url, rerr := a.url.value(row)
	if rerr != nil {
		return ExtAttr{}, rerr
	}
	title, rerr := a.title.value(row)
	if rerr != nil {
		return ExtAttr{}, rerr
	}
	switch {
	case url == "":
		// No link: clear the attribute. The title is dropped rather than
		// refused, so a const title (主页) works for members without a page.
		title = ""
	case title == "":
		return ExtAttr{}, &RowError{Ref: row.Ref, Column: a.title.label, Rule: RuleExtAttrWebIncomplete,
			Message: fmt.Sprintf("extattr %s has url %q but no title: WeCom wants both or neither", a.name, url)}
	case !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://"):
		return ExtAttr{}, &RowError{Ref: row.Ref, Column: a.url.label, Rule: RuleExtAttrWebURL,
			Message: fmt.Sprintf("extattr %s url %q must start with http:// or https://", a.name, url)}
	case chars(title) > maxAttrTitleChars:
		return ExtAttr{}, &RowError{Ref: row.Ref, Column: a.title.label, Rule: RuleExtAttrWebTitle,
			Message: fmt.Sprintf("extattr %s title is %d characters, WeCom allows %d", a.name, chars(title), maxAttrTitleChars)}
	}
	return ExtAttr{Type: AttrTypeWeb, Name: a.name, Web: ExtAttrWeb{URL: url, Title: title}}, nil
}
