package wecom

// Meaning is what an errcode means to the person reading a report: in
// Chinese and English, and what to do about it. The texts are this
// project's own; docs/wecom.md §4 lists the same codes with their class
// and links to WeCom's errcode page (developer.work.weixin.qq.com,
// document path 90313).
type Meaning struct {
	ZH, EN string
	// Do says what to do: fix the row, wait, fix the deployment.
	Do string
}

// Describe says what WeCom meant by code; ok is false for a code the
// catalogue does not know (its text then comes only from WeCom's errmsg).
func Describe(code int) (m Meaning, ok bool) {
	m, ok = catalog[code]
	return m, ok
}

var catalog = map[int]Meaning{
	-1:     {"系统繁忙", "WeCom is busy", "retried automatically; if it persists, try later"},
	6000:   {"数据版本冲突", "the record changed at the same time elsewhere", "retried automatically"},
	40001:  {"secret 错误或已重置", "wrong or reset secret", "check wecom.secret_env / secret_file against the admin console (通讯录同步)"},
	40003:  {"成员 userid 不合法", "invalid userid", "fix the userid in the source"},
	40007:  {"media_id 无效或已过期", "invalid or expired media_id", "upload the file again"},
	40013:  {"corpid 错误", "wrong corp id", "check wecom.corp_id"},
	40014:  {"access_token 无效", "invalid access token", "refreshed automatically"},
	40031:  {"成员列表不合法；删除标签成员时为全部无效", "invalid userid list; removing tag members: every entry invalid", "nothing when removing from a tag: they are gone; otherwise check the userids"},
	40058:  {"参数不合法（JSON、长度或必填项）", "invalid parameter: bad JSON, too long, or a required value empty", "fix the value in the source"},
	40063:  {"必填参数为空", "a required parameter is empty", "fix the row"},
	40066:  {"部门列表不合法", "invalid department list", "check the member's departments"},
	40068:  {"标签 ID 不合法或标签不存在", "invalid or unknown tag id", "nothing when deleting; otherwise the tag was removed in WeCom"},
	40070:  {"标签成员全部无效", "every member and department of the call is invalid", "check that they exist and lie in the secret's range"},
	40071:  {"标签名称已存在", "another tag has this name", "rename one of the two, or adopt the existing tag"},
	40072:  {"标签名称为空或超过 32 个字", "tag name empty or longer than 32 characters", "shorten the tag name in the mapping"},
	40126:  {"标签数量已达上限（3000 个）", "the corp's 3,000 tags are used up", "delete unused tags in the admin console"},
	41017:  {"缺少标签 ID", "tag id missing", "a client bug: report it"},
	41018:  {"缺少标签名称", "tag name missing", "give the tag a name in the mapping"},
	41019:  {"缺少部门，或部门不是数组", "department missing, or not an array", "give the member a department"},
	42001:  {"access_token 已过期", "access token expired", "refreshed automatically"},
	45009:  {"接口调用超过频率限制", "API call rate over WeCom's limit", "waited out automatically; lower wecom.per_minute if it recurs"},
	45024:  {"账号数量已达上限", "the corp's seat limit is reached", "buy seats or remove accounts in the admin console"},
	45033:  {"接口并发调用超过限制", "too many concurrent calls", "retried automatically; lower wecom.concurrency if it recurs"},
	48002:  {"该 secret 无权调用此接口", "this secret may not call the API (a read-only or app secret)", "use the 通讯录同步 secret and switch it to API editing"},
	48009:  {"通讯录同步助手不能从新增 IP 读取通讯录详情", "the sync secret may not read details from a newly added IP", "nothing: the importer reads only ids; adopt departments by hand if asked"},
	60003:  {"部门不存在", "department not found", "nothing when deleting; otherwise check the department id"},
	60004:  {"父部门不存在", "parent department not found", "check the department table's parent codes"},
	60005:  {"部门下还有成员", "the department still has members", "kept: move or remove its members in WeCom"},
	60006:  {"部门下还有子部门", "the department still has sub-departments", "kept: delete the sub-departments first"},
	60008:  {"部门 ID 或同级部门名称已存在", "department id, or a sibling with this name, exists", "adopted automatically when it is the same department"},
	60009:  {"部门名称含非法字符", "illegal characters in a department name", "remove \\ : * ? \" < > | from the name"},
	60010:  {"部门层级循环", "department loop: the parent is itself or below it", "fix the department table's parent codes"},
	60011:  {"无权操作该成员、部门或标签", "no privilege on this member, department or tag", "widen the sync secret's range in the admin console; a tag: leave it to the app that created it"},
	60020:  {"调用 IP 不在企业可信 IP 中", "the calling IP is not a trusted IP", "add this host's IP to 企业可信IP; it takes about a minute"},
	60102:  {"userid 已存在", "userid already exists", "adopted automatically"},
	60103:  {"手机号码不合法", "invalid mobile", "fix the mobile in the source"},
	60104:  {"手机号码已被其他成员使用", "mobile used by another member", "find the holder (named in the journal's reject) and free the number"},
	60105:  {"邮箱不合法", "invalid email", "fix the email in the source"},
	60106:  {"邮箱已被其他成员使用", "email used by another member", "find the holder and free the address"},
	60110:  {"成员所属部门过多", "the member is in too many departments", "reduce the member's departments"},
	60111:  {"userid 不存在", "userid not found", "nothing when deleting; otherwise the member was removed in WeCom"},
	60112:  {"成员姓名不合法", "invalid member name", "fix the name in the source"},
	60123:  {"部门 ID 不合法", "invalid department id", "check the member's departments"},
	60124:  {"父部门 ID 不合法", "invalid parent department id", "check the department table"},
	60125:  {"部门名称不合法", "illegal department name", "shorten or fix the department name"},
	60127:  {"缺少部门参数", "department missing", "give the member a department"},
	60129:  {"手机和邮箱不能同时为空", "mobile and email both empty", "give the member a mobile or an email"},
	60132:  {"is_leader_in_dept 与部门数量不一致", "leader flags do not match the departments", "give one leader flag per department"},
	60143:  {"企业邮箱不合法", "invalid enterprise mailbox", "fix biz_mail in the source"},
	60145:  {"企业邮箱已被使用", "enterprise mailbox already used", "find the holder and free the address"},
	60257:  {"直属上级数量超过上限", "too many direct leaders", "keep one (mapping.max_direct_leaders)"},
	81003:  {"标签成员超过 30000 个", "the tag holds 30,000 members and departments", "tag departments rather than their members, or split the tag"},
	81011:  {"无权操作该标签，它由其他应用创建", "the tag belongs to another app", "left alone: only the app that created it may change it"},
	81014:  {"单次调用的成员或部门过多", "too many members or departments in one call", "a client bug: the importer sends at most 1,000 and 100"},
	301005: {"不能删除创建者", "the corp creator cannot be deleted", "protect the creator (policy.protected_users)"},
}
