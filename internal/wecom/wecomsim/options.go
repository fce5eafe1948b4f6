package wecomsim

import (
	"math"
	"time"
)

// SecretKind is what a corpsecret is allowed to do; see docs/wecom.md §1.3.
type SecretKind int

const (
	// SyncEdit is the 通讯录同步 secret with "API编辑通讯录" enabled: the only
	// kind that may write contacts.
	SyncEdit SecretKind = iota
	// SyncReadOnly is the 通讯录同步 secret in the console's default
	// read-only mode: writes answer 48002.
	SyncReadOnly
	// App is a self-built app secret: confined to Visible, and read-only
	// but for the tags it creates, which are its own.
	App
)

func (k SecretKind) String() string {
	switch k {
	case SyncEdit:
		return "sync-edit"
	case SyncReadOnly:
		return "sync-readonly"
	case App:
		return "app"
	default:
		return "unknown"
	}
}

// Secret is one corpsecret the emulated corp accepts on gettoken.
type Secret struct {
	Value string
	Kind  SecretKind
	// NewIP models a sync secret used from an IP added after 2022-08-15:
	// detail reads (user/get, user/simplelist, user/list, department/list,
	// department/get) answer 48009.
	NewIP bool
	// Visible is the app's 可见范围 as department ids, each including its
	// whole subtree. App only; sync secrets see everything.
	Visible []int
	// Restricted marks an App created after 2022-06-20: user reads come back
	// with gender "0" and mobile, email, address and avatar blank.
	Restricted bool
	// AgentID is the App's agentid (应用ID). A tag belongs to the app that
	// created it (docs/wecom.md §2.4), so two App secrets with one AgentID
	// are one app. 0 gives the secret an app of its own, agentid 1000001
	// plus its place in Options.Secrets. Sync secrets are all the one
	// contacts-sync assistant and ignore it.
	AgentID int
}

// Options configures a Server. The zero value of every numeric field means
// "use the documented default"; New fills them in.
type Options struct {
	// CorpID is the corpid gettoken accepts. Default "wwsimcorp0000000001".
	CorpID string
	// CorpName names the root department (id 1). Default: CorpID.
	CorpName string
	// Secrets lists the accepted corpsecrets. With none configured, every
	// gettoken fails with 40001, which is what a misconfigured corp does.
	Secrets []Secret
	// CreatorUserID, when set, is the corp creator: deleting it answers
	// 301005.
	CreatorUserID string

	// Now is the clock for token expiry, rate windows and bans; nil means
	// time.Now. Tests inject a fake so no assertion depends on wall time.
	Now func() time.Time
	// TokenTTL is how long a token lives. Default 7200 s.
	TokenTTL time.Duration
	// NewTokenEachFetch [?]: false (default) returns the same token for a
	// repeat fetch inside the validity window, as the 2020 page and the
	// 2023 YAML promise; true issues a fresh token on every fetch (older
	// tokens stay valid until they expire), which the 2024 page allows.
	NewTokenEachFetch bool
	// ExpiresInRemaining [?]: false (default) always answers expires_in
	// 7200 (TokenTTL), even on a repeat fetch of a half-used token, so a
	// client that trusts expires_in on a repeat fetch will overshoot and
	// must handle 42001 reactively; true answers the remaining lifetime.
	ExpiresInRemaining bool
	// ExpiredCode [?] is the errcode for an expired token: 42001 (default)
	// or 40014, which production has been seen to use. Any other value is
	// replaced with 42001.
	ExpiredCode int
	// AllowedIPs is the 企业可信IP list. Empty allows every caller; otherwise
	// a business call from another IP answers 60020. gettoken is not
	// checked, matching reports that the token is issued and the first
	// business call is the one refused.
	AllowedIPs []string
	// BadSecretBanThreshold is how many wrong-secret gettoken calls from one
	// IP within an hour ban that IP from gettoken (45009) for an hour.
	// 0 = 2000 (the figure WeCom staff gave), negative = never ban.
	BadSecretBanThreshold int

	// Rate limits per (corp, API) and per (IP, API). 0 = documented default
	// (10000/min, 150000/h per corp; 20000/min, 600000/h per IP); negative =
	// unlimited.
	CorpPerMinute, CorpPerHour int
	IPPerMinute, IPPerHour     int

	// MaxDepth is the deepest department level, the root being level 1
	// [?]. 0 = 15, negative = unlimited.
	MaxDepth int
	// MaxDepartments caps the number of departments, root included.
	// 0 = 30000, negative = unlimited.
	MaxDepartments int
	// MaxNodesPerDept caps direct sub-departments plus direct members of
	// one department. 0 = 30000, negative = unlimited.
	MaxNodesPerDept int
	// DeptNameMax [?] is the department name limit in characters (runes):
	// 0 = 64 (2023-08 page); set 32 for the Jan-2023 YAML rule.
	DeptNameMax int
	// MaxUserDepartments [?] caps department[] on a member: 0 = 100 (current
	// docs); set 20 for the older rule that errcode 60110 still quotes.
	MaxUserDepartments int
	// MaxDirectLeaders [?] caps direct_leader[] (60257). 0 = 1: today's
	// create, update and user/get pages (90195, 90197, 90196) say 最多1个;
	// set 5 for the older pages, and 60257's own text in the errcode list
	// (90313), which still say five.
	MaxDirectLeaders int
	// AutoCreateDepartment [?]: false (default) is the strict behaviour,
	// where a member without department answers 60127 and an unknown
	// department id answers 60123. true is the 2025 behaviour: such members
	// go to an auto-created "其他（待设置部门）" department under the root,
	// and unknown ids are created beneath it.
	AutoCreateDepartment bool
	// ExtAttrNames lists the custom attributes (扩展属性, 对外属性) the
	// emulated admin console defines. WeCom silently ignores an attribute
	// whose name the console does not define; with a list set, so does the
	// emulator. nil (default) stands for a console that defines every name
	// a caller uses, since the emulator cannot know the real console.
	ExtAttrNames []string
	// ExtAttrReplaceOnUpdate [?]: the update page (90197) says omitted
	// fields stay unchanged but not whether attributes left out of extattr
	// stay. false (default) merges by name: a listed attribute replaces the
	// stored one, an empty one (text value "", web url and title "") clears
	// it, unlisted ones stay; that reading follows the create page's "url
	// and title both empty clears the attribute", a rule that would be
	// pointless if the list replaced the stored one. true replaces the
	// whole list.
	ExtAttrReplaceOnUpdate bool
	// RejectUnicodeEscapes [?]: true makes a JSON body holding a \uXXXX
	// escape answer 40033. Default false (stored verbatim), because nobody
	// has confirmed the server rejects them.
	RejectUnicodeEscapes bool
	// MaxTags caps the corp's tags (40126): 0 = 3000 (the create page,
	// 90210), negative = unlimited.
	MaxTags int
	// MaxTagNodes caps the direct members plus departments of one tag
	// (81003): 0 = 30000 (the addtagusers page, 90214), negative =
	// unlimited.
	MaxTagNodes int
	// TagOwnerCode [?] is the errcode for a change to a tag another app
	// created: 60011 (default), whose help text in the errcode list
	// (90313) gives exactly that case ("往标签添加成员时，若标签并非该应用所
	// 创建"), or 81011 (无权限操作标签), whose help text states the same
	// rule. Any other value is replaced with 60011.
	TagOwnerCode int
	// TagNoOpMembersInvalid [?]: the addtagusers and deltagusers pages
	// (90214, 90215) do not say what becomes of a member already tagged
	// (add) or not tagged (delete). false (default) accepts it as done;
	// true answers it in invalidlist / invalidparty like an unknown one.
	TagNoOpMembersInvalid bool
	// NewIPRefusesTagGet [?]: true adds tag/get, which names members, to
	// the detail reads a sync secret on a new IP is refused (48009).
	// Default false: the 2022-08-15 announcement's list (docs/wecom.md
	// §1.3) does not name it.
	NewIPRefusesTagGet bool

	// ListSizeLimit [?] arms the 45029 trap: user/list with fetch_child=1
	// answers 45029 ("response too big") when it would return more than
	// this many members. The real threshold is undocumented; 0 (default)
	// never trips, so only tests that exercise the "split by department"
	// fallback set it.
	ListSizeLimit int

	// Media size caps in bytes per media/upload type; 0 = the upload
	// page's figures (90253): image 10 MB, voice 2 MB, video 10 MB, file
	// 20 MB. [?] 45001's help text in the errcode list (90313) says image
	// 5 MB and voice 5 MB instead; set those to follow it.
	MaxImageBytes, MaxVoiceBytes, MaxVideoBytes, MaxFileBytes int64

	// BatchJobDuration is how long each batch/syncuser, replaceuser or
	// replaceparty job runs on the injectable clock, its rows applied
	// evenly over that time; jobs run one after another. 0 = 10 s;
	// negative = each job is done by the time its submission is answered.
	// WeCom publishes no figure.
	BatchJobDuration time.Duration
	// ReplaceUserAbortAtSubmit [?] says where replaceuser's deletion guard
	// (45026) surfaces. false (default): the job is accepted and, when it
	// starts, stops without applying anything; getresult then answers
	// 45026. The replaceuser page says the system 中止导入 (aborts the
	// import) and the batch_job_result event carries a job-level ErrCode,
	// which only makes sense for a job that was accepted. true: the
	// submission itself answers 45026 and no job exists.
	ReplaceUserAbortAtSubmit bool

	// Latency delays every /cgi-bin/ request (gettoken included), honouring
	// the request context.
	Latency time.Duration
	// FailRate is the fraction of business calls (everything but gettoken)
	// answered with an injected fault drawn from FailCodes, with no effect.
	FailRate float64
	// FailCodes are drawn uniformly for FailRate. Default {-1}. 500..599
	// answer that HTTP status with an empty body; -2 drops the connection
	// before any effect; -3 applies the call then drops the connection.
	FailCodes []int
	// DropRate is the fraction of business calls whose connection is closed
	// without an answer and without an effect. Drawn before FailRate.
	DropRate float64
	// Seed seeds the fault draws so a run with the same calls injects the
	// same faults.
	Seed int64

	// AfterEffect, if set, is called for every business call after the
	// emulator has applied it and before the answer is written, with the
	// API and the errcode it will answer. A test blocks in it to hold an
	// answer back while it kills the caller: the effect happened, and the
	// caller never learns of it.
	AfterEffect func(api string, errcode int)
	// CallLogLimit bounds CallLog to the most recent CallLogLimit business
	// calls, so a long-lived emulator (importer sim serving a 100,000-member
	// import night after night) does not grow without bound. 0 (default)
	// or negative keeps every call, which tests that inspect the whole log
	// rely on.
	CallLogLimit int
}

const (
	defaultCorpID     = "wwsimcorp0000000001"
	defaultTokenTTL   = 7200 * time.Second
	defaultBanThresh  = 2000
	defaultCorpPerMin = 10000
	defaultCorpPerH   = 150000
	defaultIPPerMin   = 20000
	defaultIPPerH     = 600000
	unlimited         = math.MaxInt
	// firstAgentID numbers the App secrets given no AgentID, in the
	// seven-digit shape of real agentids.
	firstAgentID = 1000001
)

// withDefaults returns o with every zero field replaced by its default and
// every nonsensical value clamped, so the server never has to re-check.
func withDefaults(o Options) Options {
	if o.CorpID == "" {
		o.CorpID = defaultCorpID
	}
	if o.CorpName == "" {
		o.CorpName = o.CorpID
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = defaultTokenTTL
	}
	if o.ExpiredCode != 40014 {
		o.ExpiredCode = 42001
	}
	o.BadSecretBanThreshold = limitOr(o.BadSecretBanThreshold, defaultBanThresh)
	o.CorpPerMinute = limitOr(o.CorpPerMinute, defaultCorpPerMin)
	o.CorpPerHour = limitOr(o.CorpPerHour, defaultCorpPerH)
	o.IPPerMinute = limitOr(o.IPPerMinute, defaultIPPerMin)
	o.IPPerHour = limitOr(o.IPPerHour, defaultIPPerH)
	o.MaxDepth = limitOr(o.MaxDepth, 15)
	o.MaxDepartments = limitOr(o.MaxDepartments, 30000)
	o.MaxNodesPerDept = limitOr(o.MaxNodesPerDept, 30000)
	o.MaxTags = limitOr(o.MaxTags, defaultMaxTags)
	o.MaxTagNodes = limitOr(o.MaxTagNodes, defaultTagNodes)
	if o.TagOwnerCode != 81011 {
		o.TagOwnerCode = 60011
	}
	if o.DeptNameMax <= 0 {
		o.DeptNameMax = 64
	}
	if o.MaxUserDepartments <= 0 {
		o.MaxUserDepartments = 100
	}
	if o.MaxDirectLeaders <= 0 {
		o.MaxDirectLeaders = 1
	}
	for _, m := range []struct {
		v   *int64
		def int64
	}{{&o.MaxImageBytes, defaultMaxImage}, {&o.MaxVoiceBytes, defaultMaxVoice}, {&o.MaxVideoBytes, defaultMaxVideo}, {&o.MaxFileBytes, defaultMaxFile}} {
		if *m.v <= 0 {
			*m.v = m.def
		}
	}
	switch {
	case o.BatchJobDuration == 0:
		o.BatchJobDuration = defaultBatchJobDuration
	case o.BatchJobDuration < 0:
		o.BatchJobDuration = 0
	}
	if o.ListSizeLimit < 0 {
		o.ListSizeLimit = 0
	}
	if o.CallLogLimit < 0 {
		o.CallLogLimit = 0
	}
	if o.Latency < 0 {
		o.Latency = 0
	}
	o.FailRate = clamp01(o.FailRate)
	o.DropRate = clamp01(o.DropRate)
	if len(o.FailCodes) == 0 {
		o.FailCodes = []int{-1}
	} else {
		o.FailCodes = append([]int(nil), o.FailCodes...)
	}
	secrets := make([]Secret, len(o.Secrets))
	for i, sec := range o.Secrets {
		sec.Visible = append([]int(nil), sec.Visible...)
		if sec.Kind == App && sec.AgentID == 0 {
			sec.AgentID = firstAgentID + i
		}
		secrets[i] = sec
	}
	o.Secrets = secrets
	o.AllowedIPs = append([]string(nil), o.AllowedIPs...)
	if o.ExtAttrNames != nil {
		o.ExtAttrNames = append([]string{}, o.ExtAttrNames...)
	}
	return o
}

// limitOr maps the "0 = default, negative = unlimited" convention onto a
// plain ceiling.
func limitOr(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return unlimited
	default:
		return v
	}
}

func clamp01(f float64) float64 {
	if f != f || f < 0 { // NaN or negative
		return 0
	}
	if f > 1 {
		return 1
	}
	return f
}
