// Package wecomsim is an in-memory emulator of the WeCom (企业微信)
// server-side contacts API, faithful enough that the hrfeed client can be
// tested against it instead of the unreachable real service. It follows
// docs/wecom.md, the WeCom facts this project depends on, §7 in particular.
//
// It is not a stub: every documented rule is enforced with its documented
// errcode, so a client bug that the real service would reject is rejected
// here too. A Server is an http.Handler; mount it on httptest.NewServer or
// a real listener (`importer sim --state FILE`).
//
// # Surface
//
//   - GET /cgi-bin/gettoken, and the business APIs user/create, user/get,
//     user/update, user/delete, user/batchdelete, user/simplelist,
//     user/list, user/list_id, department/create, department/update,
//     department/delete, department/list, department/simplelist and
//     department/get, media/upload (multipart, part "media"), the
//     asynchronous imports batch/syncuser, batch/replaceuser,
//     batch/replaceparty and batch/getresult (batch.go), and the tags
//     tag/create, tag/update, tag/delete, tag/get, tag/addtagusers,
//     tag/deltagusers and tag/list (tags.go).
//   - GET /sim/state: the Snapshot as JSON. Emulator-only, no token.
//   - Go hooks for tests: Snapshot, Stats, CallLog, SetActivated,
//     InvalidateTokens, InjectFaults, SaveFile, LoadFile, CreateAdminTag
//     (a tag made in the admin console). CallLog keeps every call unless
//     Options.CallLogLimit bounds it to the latest ones.
//
// # Envelope
//
// Every WeCom answer is HTTP 200 with Content-Type
// "application/json; charset=UTF-8", errcode and errmsg first in the body,
// and Error-Code / Error-Msg headers mirroring them. Success errmsg is
// per endpoint ("ok", "created", "updated", "deleted"). Error errmsg has
// production's shape "<text>, hint: [<id>], from ip: <ip>, more info at
// https://open.work.weixin.qq.com/devtool/query?e=<code>" and never
// contains caller input, a token or a secret.
//
// Order of checks on a business call: scripted or random fault, HTTP
// method, token (query string only), IP allow-list, rate limit, secret
// capability, JSON body, then the endpoint's own rules. Before any of
// them, batch jobs are brought up to the call's time: their rows due by
// then are applied, so the call sees what they did.
//
// # Choices for facts docs/wecom.md calls open
//
// [?] in this package marks a fact that docs/wecom.md tags open: the
// official pages disagree or say nothing. §8 there names the sources of
// each. Switches (Options fields) and their defaults:
//
//	Option                 Default   Meaning
//	NewTokenEachFetch      false     repeat gettoken in the window returns the same token
//	ExpiresInRemaining     false     expires_in is always 7200 (TTL), not the remaining life
//	ExpiredCode            42001     code for an expired token; 40014 selectable
//	DeptNameMax            64        department name limit in characters; 32 selectable
//	MaxUserDepartments     100       department[] cap per member (60110); 20 selectable
//	MaxDirectLeaders       1         direct_leader[] cap (60257): today's pages 90195, 90196,
//	                                 90197 say 1; 5 selectable, as older pages and 60257's
//	                                 text in the errcode list (90313) say
//	MaxDepth               15        tree depth, root = level 1
//	MaxDepartments         30000     departments in the corp, root included
//	MaxNodesPerDept        30000     direct sub-departments + members of one department
//	AutoCreateDepartment   false     strict: missing dept 60127, unknown dept 60123
//	RejectUnicodeEscapes   false     \uXXXX in a JSON body is stored, not refused with 40033
//	ExtAttrReplaceOnUpdate false     extattr on update merges by name (an empty value clears
//	                                 one); true replaces the list. The update page (90197)
//	                                 is silent; the create page's "url and title both empty
//	                                 clears the attribute" only makes sense for a merge
//	ListSizeLimit          0 (off)   user/list fetch_child=1 above this many members: 45029
//	MaxImageBytes          10 MB     media/upload caps (45001) per the upload page (90253);
//	MaxVoiceBytes          2 MB      45001's help text (90313) says image 5 MB and voice 5 MB
//	MaxVideoBytes          10 MB
//	MaxFileBytes           20 MB
//	BatchJobDuration       10 s      emulator time per batch job, rows applied evenly; jobs
//	                                 run one after another; negative = done at submission
//	ReplaceUserAbortAtSubmit false   replaceuser's guard (45026) stops the job when it starts
//	                                 and getresult answers 45026; true answers it at
//	                                 submission. The replaceuser page (90981) says the import
//	                                 is aborted (中止导入) and the batch_job_result event
//	                                 (96305) has a job-level ErrCode: both suit a job that
//	                                 was accepted
//	BadSecretBanThreshold  2000      wrong secrets per IP per hour before a 1 h gettoken ban
//	TagOwnerCode           60011     a change to a tag another app created; 81011
//	                                 selectable. Both codes' help texts in the errcode
//	                                 list (90313) state the rule; 60011's names this very
//	                                 case (往标签添加成员 on a tag the app did not create)
//	TagNoOpMembersInvalid  false     addtagusers of a member already tagged, deltagusers of
//	                                 one not tagged, is done; true lists it as invalid.
//	                                 The pages (90214, 90215) are silent
//	NewIPRefusesTagGet     false     tag/get is not among the 48009 detail reads (the
//	                                 2022-08-15 list does not name it); true adds it
//
// ExtAttrNames is corp configuration rather than a [?] fact: the custom
// attributes the emulated admin console defines. nil (default) defines
// every name; with a list, other names are dropped silently as the pages
// say.
//
// MaxTags (3000, 40126) and MaxTagNodes (30000 members plus departments
// per tag, 81003) are documented caps, configurable small for tests like
// MaxDepartments.
//
// The rate-limit thresholds (CorpPerMinute 10000, CorpPerHour 150000,
// IPPerMinute 20000, IPPerHour 600000) are the 2023 documented figures,
// configurable because WeCom changes them. `importer sim` has a flag for
// each switch in the table above, for ExtAttrNames, the tag caps
// (--max-tags, --max-tag-nodes), the rate thresholds and the fault
// injection (cmd/importer/sim.go, TestSimFlagsOptions); what it has no
// flag for is the corp's make-up (CorpName, CreatorUserID, AllowedIPs, an
// App secret's range and agentid, Restricted) and the test hooks (Now,
// AfterEffect). conformance_test.go lists every rule of docs/wecom.md
// §3–§7 with the errcode the emulator answers for it.
//
// Fixed choices (emulator-specific; change here if the live service is
// observed to differ):
//
//	Situation                                     Answer
//	unknown path under /cgi-bin/                  HTTP 404, {"errcode":404,...}
//	write with a read-only sync secret            48002 (not 60011)
//	userid characters                             [0-9A-Za-z_-@.], "@" allowed although
//	                                              40003's help text omits it
//	mobile format (60103)                         ^\+?[0-9][0-9 \-]{4,31}$
//	parent department missing                     60004 on create and update (not 60124)
//	gettoken rate                                 counted like any API (per corp and IP);
//	                                              no separate 300/h historic cap
//	wrong HTTP method                             40058 (not 40003/40063)
//	missing userid (create, update, get, delete)  41009
//	order[] count differs from department[]       40058
//	order or dept order outside [0, 2^32)         40058
//	gender                                        "1"/"2" or the numbers 1/2 set it;
//	                                              "0"/0 mean unset (SDKs send gender:0
//	                                              by default); anything else 40058
//	enable other than 0/1                         40058
//	alias > 64 chars, address > 128 chars         40058
//	duplicate id inside department[]              40066
//	main_department not in department[]           40058; 0 means unset
//	direct_leader names an unknown member         60111
//	new_userid on update                          301036 (no id here is system-generated)
//	batchdelete with an unknown userid            60111, nothing deleted
//	batchdelete with an empty list                40058
//	department/create without name                60001; without parentid 60004
//	department id < 0 or > 2^31-1                 40058; id 1 or a used id 60008
//	depth, MaxDepartments or MaxNodesPerDept cap  40058 (real code undocumented)
//	department/delete with members and subdepts   60005 (members are checked first)
//	sibling-name uniqueness                       exact, case-sensitive comparison
//	mobile uniqueness                             spaces and dashes ignored
//	email uniqueness                              case-insensitive
//	AllowedIPs (60020)                            business calls only, not gettoken
//	NewTokenEachFetch=true                        older tokens stay valid until expiry
//	InvalidateTokens                              revoked tokens answer 40014
//	user/list_id without limit                    limit 10000
//	user/list_id row order                        userid (case-folded), then dept id
//	department/list order                         preorder; siblings order desc, id asc
//	user/list order with fetch_child=1            departments in preorder, members of
//	                                              each by order desc then creation asc,
//	                                              each member listed once
//	deleting a member                             also removes it from direct_leader[]
//	department as a string ("1" or ["1"])         41019 (its help text); other shapes 40058
//	extattr / external_profile shape or length    40058 (real code undocumented)
//	extattr {"attrs":null}                        absent (SDKs send it for "nothing")
//	attribute with an empty value                 clears it (text "", web url and title
//	                                              "", miniprogram appid "")
//	external_profile on update                    keys sent replace, keys absent stay;
//	                                              external_attr replaces the whole list
//	nickname                                      external_profile.wechat_channels.nickname,
//	                                              applied after external_profile
//	wechat_channels.status                        always 0 (confirmed)
//	channel, corp short name, miniprogram appid   not checked against the corp's bindings
//	avatar_mediaid ""                             leaves the avatar alone (SDKs send "")
//	to_invite                                     kept as Snapshot's Invited; not shown
//	qr_code                                       stable URL from corp and userid; blank,
//	                                              like avatar, for restricted apps
//	created_department_list                       every department the call created,
//	                                              待设置部门 included
//	media format (40004)                          by the part's filename: .jpg .jpeg .png
//	                                              image, .amr voice, .mp4 video, any file;
//	                                              voice length (60 s) not checked
//	media/upload not multipart, no "media" part   44001 (its help text: check the format)
//	avatar_mediaid of a live non-image media      40007
//	uploaded media                                kept in memory until it expires, never
//	                                              in the state file
//	batch: media_id absent / not a live file      40058 / 40007
//	batch: empty file, no data rows, a required   40092 at submission; an empty required
//	column missing                                cell is that row's own code (41009,
//	                                              60112, 60127, 60129)
//	batch: CSV encoding                           UTF-8 (BOM dropped), else GB18030
//	batch: user columns                           by header text; unknown headers are
//	                                              text extattr; 禁用 0/1 is enable 1/0;
//	                                              性别 男/女 or 1/2; 是否部门内领导 0/1 or
//	                                              是/否; lists split on ";" or "；"
//	batch: empty cell in a present column         clears the field, except 所在部门 on an
//	                                              update, 性别, 是否部门内领导, 排序, 禁用
//	batch: a user row                             user/update if the userid exists, else
//	                                              user/create with the job's to_invite;
//	                                              non-numeric 所在部门 40066
//	batch: a department row                       department/update if the id exists, else
//	                                              department/create with that id; rows run
//	                                              parents first; id missing or < 1 40058;
//	                                              parent not a number 60004; the root's
//	                                              row may rename it, never move it
//	batch: replaceuser deletions                  after the last row; members the file
//	                                              omits, the corp creator spared; the
//	                                              guard counts them when the job starts
//	batch: replaceparty deletions                 after the last row, deepest first, only
//	                                              departments without members or children
//	batch: result[]                               one entry per file row (deletions are
//	                                              not listed); errmsg "ok" or the errcode's
//	                                              text
//	batch: callback                               accepted, never called
//	batch: the last-5 rule                        counted by submission; a purged job that
//	                                              is still running finishes its rows
//	batch/getresult                               any secret; jobs are not in the state file
//	tag/create tagid in use, < 0 or > 2^31-1      40068 (0 or absent: the largest id in use
//	                                              plus one, so deleting the largest frees it)
//	tagid absent on the other tag calls           40068 (its help text: 未指定), not 41017
//	tagname uniqueness                            exact, case-sensitive comparison
//	tag writes by an App secret                   allowed on its own tags (the create page:
//	                                              the tag belongs to the app); read-only sync
//	                                              secrets 48002
//	a tag's creator                               "contacts-sync" for every sync secret,
//	                                              "app:<AgentID>" for an App, "admin" for
//	                                              CreateAdminTag; kept in the state file
//	tag/delete of a tag with members              allowed (today's page, 90212; the 2014
//	                                              qydev wiki required it empty)
//	addtagusers/deltagusers, both lists empty     the all-invalid code (40070 / 40031)
//	userlist or partylist not a JSON array        the same (40070's help text, item 1)
//	more than 1000 userids or 100 departments     81014 on both calls (its text names only
//	                                              the add)
//	an invalid entry                              unknown, malformed, or outside an App's
//	                                              range; listed in invalidlist ("|"-joined,
//	                                              as sent) or invalidparty (an array), each
//	                                              omitted when empty; repeats collapse
//	MaxTagNodes exceeded                          81003, nothing applied
//	tag/get order, visibility                     entries as added; an App sees members
//	                                              and departments of its range only
//	tag/list                                      every tag, by id, for every secret
//
// fields.go holds one table of every writable member field and one of
// every department field, each with its rules, their errcodes and the
// page they come from. Parsing, merging, validation and the user/get and
// user/list rendering walk the member table; fields_test.go walks both
// over HTTP (create, get, list, update, and every rule's errcode).
//
// Member status: a new member is 4 (not activated); enable=0 makes it 2;
// enable=1 makes it 4 again, or 1 if SetActivated was called earlier.
// While activated, user/update silently ignores mobile.
//
// # Cost
//
// The importer runs 10,000-member first imports and 100,000-member
// directories through the emulator, so no per-call path scans the
// directory. Indexes (index.go), updated by every mutation and rebuilt by
// LoadFile, answer the mobile and email uniqueness checks, member and
// sub-department counts, sibling names, department leaders and the
// direct_leader clean-up on delete: user/create, update, get and delete
// and department/create, get and delete cost the same at 100 or 100,000
// members. A department/update that moves a department walks its subtree
// (for the depth cap). Listings cost what they return; user/list_id sorts
// its rows once and reuses them until a member joins, leaves or changes
// departments. bench_test.go measures all of this. Tag calls cost what
// they carry: a tag knows its entries and reverse indexes name the tags
// of each member and department, so a deletion edits only those tags.
//
// # Rate limits and faults
//
// Calls are counted per (corp, API) and per (IP, API) on the injectable
// clock: exactly over the sliding minute (the time of every call in the
// window (now-60 s, now]), and in one-second buckets with a running
// sum over the sliding hour, so a call costs O(1) amortised. The call
// that would exceed a limit is answered 45009 and bans that key for the
// breached window (60 s or 60 min); refused calls are not counted.
//
// InjectFaults scripts the next business calls; FailRate/DropRate inject
// random faults drawn from a generator seeded with Seed. Fault codes:
// ordinary errcodes are answered in the envelope without effect, 500..599
// are bare HTTP statuses, -2 drops the connection without effect, -3 applies
// the call and then drops the connection, 0 lets a scripted call through.
package wecomsim
